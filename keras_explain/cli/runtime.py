"""The TensorFlow runtime's own log lines, kept off the command's stderr unless asked for.

TensorFlow writes lines such as "I0000 00:00:... port.cc:153] oneDNN custom
operations are on" to stderr as its libraries load, before it reads
`TF_CPP_MIN_LOG_LEVEL`, and announces them with absl's "WARNING: All log
messages before absl::InitializeLog() is called are written to STDERR". So the
command sets the log level in the environment before anything imports
TensorFlow (`quiet_runtime_logs`), and imports it with the process's stderr
held in a file (`import_tensorflow`), writing back what is not a log record
below that level. `TF_ENABLE_ONEDNN_OPTS`, which changes numerics, is left as
the user set it.
"""

import os
import re
import sys
import tempfile

#: What the command sets in the environment, each variable only when it is unset.
QUIET_ENVIRONMENT = {"TF_CPP_MIN_LOG_LEVEL": "3", "GRPC_VERBOSITY": "ERROR"}

#: A record of absl or TensorFlow logging: "I0000 00:00:1.5  3143 port.cc:153] ..." or
#: "2024-01-11 05:40:05.061907: I tensorflow/core/platform/cpu_feature_guard.cc:182] ...".
_RECORD = re.compile(
    r"^(?:(?P<absl>[IWEF])\d{4} \d\d:\d\d:\d+\.\d+\s+\d+ [^\s\]]+:\d+\] "
    r"|\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+: (?P<tsl>[IWEF]) [^\s\]]+:\d+\] )"
)
_BANNER = "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR"
#: A Python warning or traceback, which is never part of a log record.
_PYTHON = re.compile(r"^(?:\S.*:\d+: \w+: |Traceback \(most recent call last\):)")
_SEVERITIES = "IWEF"


def quiet_runtime_logs(argv):
    """Quiet TensorFlow's log lines for this process, unless they are asked for.

    Sets `QUIET_ENVIRONMENT` (`TF_CPP_MIN_LOG_LEVEL=3`, `GRPC_VERBOSITY=ERROR`)
    in `os.environ`, keeping any value the user set. Does nothing with
    `--debug` in `argv`, or once TensorFlow is imported, when the variables
    would change nothing.

    Args:
        argv: list of str, the command's arguments.
    """
    if "--debug" in argv or "tensorflow" in sys.modules:
        return
    for name, value in QUIET_ENVIRONMENT.items():
        os.environ.setdefault(name, value)


def min_log_level():
    """`TF_CPP_MIN_LOG_LEVEL` as an int from 0 (every record) to 3; 0 when unset or unreadable."""
    try:
        return min(max(int(os.environ.get("TF_CPP_MIN_LOG_LEVEL", "0")), 0), 3)
    except ValueError:
        return 0


def without_log_lines(text, level):
    """`text` without the log records of a severity below `level`.

    Args:
        text: what was written to stderr.
        level: int, as `TF_CPP_MIN_LOG_LEVEL`: 1 drops INFO records, 2 also
            WARNING, 3 also ERROR; absl's banner goes from 1 on.

    Returns:
        str, the other lines as they were. The lines that continue a dropped
        record ("To enable the following instructions: ...") go with it.
    """
    kept, dropping = [], False
    for line in text.splitlines(keepends=True):
        record = _RECORD.match(line)
        if record:
            severity = record.group("absl") or record.group("tsl")
            dropping = _SEVERITIES.index(severity) < level
        elif line.startswith(_BANNER):
            dropping = level >= 1
        elif _PYTHON.match(line):
            dropping = False
        if not dropping:
            kept.append(line)
    return "".join(kept)


def _flush():
    if sys.stderr is not None:
        sys.stderr.flush()


def _import():
    import keras  # noqa: F401
    import tensorflow  # noqa: F401


def import_tensorflow():
    """Import TensorFlow and Keras, keeping the log lines they write meanwhile off stderr.

    What the import writes to the process's stderr (file descriptor 2, where
    TensorFlow's C++ code writes) is held in a temporary file and written
    back through `without_log_lines` at `min_log_level()`; when the import
    fails it is written back whole. With the level at 0, or TensorFlow
    already imported, this is a plain import.
    """
    level = min_log_level()
    if "tensorflow" in sys.modules or level == 0:
        return _import()
    try:
        saved = os.dup(2)
    except OSError:  # no stderr to hold
        return _import()
    failed = True
    with tempfile.TemporaryFile() as held:
        _flush()
        os.dup2(held.fileno(), 2)
        try:
            _import()
            failed = False
        finally:
            _flush()
            os.dup2(saved, 2)
            os.close(saved)
            held.seek(0)
            text = held.read().decode("utf-8", "replace")
            kept = text if failed else without_log_lines(text, level)
            if kept and sys.stderr is not None:
                sys.stderr.write(kept)
                sys.stderr.flush()
