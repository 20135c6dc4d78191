"""A bounded background reader: the next shard is prepared while the model explains this one."""

import queue
import threading

_POLL = 0.1


class Prefetcher:
    """Iterate `items` in a background thread, at most `depth` items prepared and not yet done.

    A slot is taken before an item is prepared and given back when the
    consumer asks for the next one, so that with depth 2 the consumer holds
    one item while the thread prepares (or holds) the next: never more.
    An error raised while preparing is raised to the consumer at that item.

    Args:
        items: an iterable, read in the background thread.
        depth: items alive at once. Defaults to 2.

    Example:

    ```python
    with Prefetcher(source.chunks(shards)) as chunks:
        for chunk in chunks:
            explain(chunk)
    ```
    """

    def __init__(self, items, depth=2):
        self._items = items
        self._slots = threading.Semaphore(depth)
        self._queue = queue.Queue()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="keras_explain-prefetch", daemon=True)
        self._thread.start()

    def _take_slot(self):
        while not self._slots.acquire(timeout=_POLL):
            if self._stop.is_set():
                return False
        return not self._stop.is_set()

    def _run(self):
        try:
            iterator = iter(self._items)
            while self._take_slot():
                try:
                    item = next(iterator)
                except StopIteration:
                    break
                self._queue.put(("item", item))
            self._queue.put(("end", None))
        except BaseException as error:  # noqa: BLE001 - handed to the consumer
            self._queue.put(("error", error))

    def __iter__(self):
        while True:
            kind, value = self._queue.get()
            if kind == "end":
                return
            if kind == "error":
                raise value
            yield value
            value = None
            self._slots.release()

    def close(self):
        """Stop the thread (it ends after the item it is preparing)."""
        self._stop.set()
        self._slots.release()
        self._thread.join(timeout=5.0)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False
