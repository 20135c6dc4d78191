"""The start and the end of a run: what a resumed run may skip, and the summary once the data ends."""

import dataclasses
import os
from typing import Optional

import numpy as np

from keras_explain.datasets.files import MANIFEST, remove_leftovers, verifies
from keras_explain.datasets.manifest import (
    check_resumable,
    load_manifest,
    manifest_path,
    new_manifest,
    save_manifest,
)
from keras_explain.datasets.shards import write_npz
from keras_explain.datasets.stats import StreamedSummary
from keras_explain.explanation_files import jsonable

#: The names of the files a run writes in its folder (and removes when it starts again).
_OWN_PREFIXES = ("shard-", "summary.npz", MANIFEST)
SUMMARY = "summary.npz"


def entry_verifies(directory, entry):
    """True when a manifest entry's shard file (and statistics file) still have their sha256."""
    files = [(entry["file"], entry["sha256"])]
    if "stats" in entry:
        files.append((entry["stats"], entry["stats_sha256"]))
    return all(verifies(os.path.join(directory, name), digest) for name, digest in files)


@dataclasses.dataclass
class RunState:
    """The manifest of a run in progress, the shards left to explain and where it writes."""

    directory: str
    manifest: dict
    pending: list
    open_from: Optional[int]

    def add_shard(self, entry, shared, chunk):
        """Record a written shard (and the explanation's fields that are not per row) in the manifest."""
        manifest = self.manifest
        manifest["shards"] = [e for e in manifest["shards"] if e["index"] != entry["index"]] + [entry]
        if not manifest["extras"]:
            shared = dict(shared)
            columns = getattr(chunk.x, "columns", None)
            if columns is not None and "feature_names" not in shared:
                shared["feature_names"] = [str(c) for c in columns]
            manifest["extras"] = jsonable({k: v for k, v in shared.items() if not isinstance(v, dict)})
        save_manifest(self.directory, manifest)


def start_run(directory, run, resume, seed, random, source):
    """The `RunState` of a new run, or of the run in `directory` to resume.

    Args:
        directory: the results folder (created when missing).
        run: the run's "run" entry of the manifest.
        resume: continue the results in the folder.
        seed: the explainer's random_state (None when it has none, or None).
        random: the method draws random samples.
        source: the data's `Source`.

    Raises:
        ValueError: for results in the folder made by another run.
    """
    os.makedirs(directory, exist_ok=True)
    remove_leftovers(directory, _OWN_PREFIXES)
    exists = os.path.isfile(manifest_path(directory))
    if exists and resume:
        manifest = load_manifest(directory, "out")
        check_resumable(manifest, run, directory)
        kept = [e for e in manifest["shards"] if entry_verifies(directory, e)]
        if len(kept) != len(manifest["shards"]):
            manifest["complete"], manifest["summary"] = False, None
        manifest["shards"] = kept
    else:
        if exists:
            _remove_results(directory)
        if random and seed is None:
            seed = int(np.random.SeedSequence().generate_state(1)[0])
        manifest = new_manifest(run, seed if random else None)
        save_manifest(directory, manifest)
    pending, open_from = _pending(manifest, source)
    return RunState(directory, manifest, pending, open_from)


def _remove_results(directory):
    for name in os.listdir(directory):
        if name.startswith(_OWN_PREFIXES):
            os.remove(os.path.join(directory, name))


def _pending(manifest, source):
    """(shard indices to explain, the first of the shards to the end of unknown-length data or None)."""
    done = {e["index"] for e in manifest["shards"]}
    rows = source.rows if source.rows is not None else (manifest["rows"] if manifest["complete"] else None)
    if rows is not None:
        return [k for k in range(-(-rows // source.shard_size)) if k not in done], None
    following = max(done) + 1 if done else 0
    return [k for k in range(following) if k not in done], following


def finish_run(directory, state):
    """Mark the results complete once the data has ended, and write the summary.

    Raises:
        RuntimeError: when the complete shards do not cover the rows without a gap.
    """
    manifest = state.manifest
    entries = sorted(manifest["shards"], key=lambda e: e["index"])
    if [e["index"] for e in entries] != list(range(len(entries))) or any(
        a["stop"] != b["start"] for a, b in zip(entries, entries[1:])
    ):
        raise RuntimeError(f"the shards of '{directory}' do not cover the rows of the data without a gap.")
    manifest["rows"] = entries[-1]["stop"] if entries else 0
    manifest["complete"] = True
    summary = manifest.get("summary")
    if entries and all("stats" in e for e in entries):
        if summary is None or not verifies(os.path.join(directory, summary["file"]), summary["sha256"]):
            manifest["summary"] = _write_summary(directory, manifest, entries)
    save_manifest(directory, manifest)


def streamed_summary(directory, manifest, entries):
    """The `Summary` of the statistics files of `entries`, merged in shard order."""
    merged = StreamedSummary(manifest["run"]["method"], manifest["extras"].get("feature_names"))
    for entry in entries:
        path = os.path.join(directory, entry["stats"])
        with np.load(path, allow_pickle=False) as stats:
            merged.add({key: stats[key] for key in stats.files})
    return merged.result()


def _write_summary(directory, manifest, entries):
    flat = streamed_summary(directory, manifest, entries).as_dict()
    arrays = {k: v for k, v in flat.items() if isinstance(v, np.ndarray)}
    meta = {k: v for k, v in flat.items() if not isinstance(v, np.ndarray)}
    digest = write_npz(os.path.join(directory, SUMMARY), arrays)
    return {"file": SUMMARY, "sha256": digest, "meta": jsonable(meta)}


def read_summary_file(directory, manifest):
    """The stored `Summary` of complete results (None when there is none)."""
    from keras_explain.summaries import Summary

    stored = manifest.get("summary")
    if stored is None:
        return None
    with np.load(os.path.join(directory, stored["file"]), allow_pickle=False) as data:
        found = {key: data[key] for key in data.files}
    return Summary.from_dict({**stored["meta"], **found})
