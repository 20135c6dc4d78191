"""Progress bars on stderr."""

import sys


class Progress:
    """A one-line progress bar on stderr: `label [#####.....] 5/10`.

    Args:
        label: what is counted.
        total: the count at the end.
        enabled: draw it at all.
        stream: where to draw. Defaults to sys.stderr.
    """

    width = 30

    def __init__(self, label, total, enabled, stream=None):
        self.label, self.total, self.done = label, int(total), 0
        self.enabled = bool(enabled) and self.total > 0
        self.stream = stream or sys.stderr
        self._draw()

    def __call__(self, count=1):
        self.done = min(self.total, self.done + count)
        self._draw()

    def _draw(self):
        if not self.enabled:
            return
        filled = self.width * self.done // self.total
        bar = "#" * filled + "." * (self.width - filled)
        self.stream.write(f"\r{self.label} [{bar}] {self.done}/{self.total}")
        self.stream.flush()

    def close(self):
        if self.enabled:
            self.stream.write("\n")
            self.stream.flush()
            self.enabled = False
