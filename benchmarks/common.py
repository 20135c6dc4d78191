"""Shared by the benchmark scripts: timing, memory, the command line and RESULTS.md.

Import it before Keras or TensorFlow: it sets their environment defaults and
puts the repository root on `sys.path`, so that the checkout's keras_explain
is the one measured.

* `time_call` and `interleaved_rounds`: wall-clock and process CPU seconds of
  one call, and of several named callables run in turn for a number of
  rounds after their warm-ups (`Rounds`: per-name lists, medians, the
  per-round text the scripts print).
* `ratio`: a ratio as the tables show it ("1.23x", "-" when a side is
  missing).
* `peak_rss_kb`, `report_peak_rss` and `peak_rss_at_two_sizes`: the peak
  resident memory of a fresh child process of a script, at two sizes.
* `optional_import`, `version_of`, `announce`, `provenance`,
  `apply_defaults`, `add_run_options`: peer libraries that may be missing,
  version strings, the header lines every script prints, and the `--quick`
  / `--no-write` options.
* `command_line` and `write_section`: the running command as typed from the
  repository root, and the replacement of one section of RESULTS.md.
* `digits_cnn`: the compiled digits CNN that callback_overhead.py and
  deepshap.py both measure.
"""

import dataclasses
import datetime
import importlib
import os
import resource
import shlex
import statistics
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

RESULTS = ROOT / "benchmarks" / "RESULTS.md"
INTRO = (
    "# Benchmark results\n\n"
    "Every ratio below is measured in one run on a 2-core CPU machine; "
    "absolute seconds are noise.\n"
)
PEAK_PREFIX = "peak_kb="

#: Peer libraries asked for with `optional_import` and not installed.
MISSING = []


# -- timing ----------------------------------------------------------------------


@dataclasses.dataclass
class Timing:
    """One call: wall-clock seconds, process CPU seconds (all threads) and its value."""

    wall: float
    cpu: float
    value: object


def time_call(function, *args):
    """Time one call of `function(*args)`."""
    start, start_cpu = time.perf_counter(), time.process_time()
    value = function(*args)
    cpu = time.process_time() - start_cpu
    return Timing(time.perf_counter() - start, cpu, value)


@dataclasses.dataclass
class Rounds:
    """Seconds of every round per name (`wall`, `cpu`) and each name's last value."""

    wall: dict
    cpu: dict
    outputs: dict

    def medians(self, clock="wall"):
        """{name: median seconds} on `clock` ("wall" or "cpu")."""
        return {name: statistics.median(times) for name, times in getattr(self, clock).items()}

    def text(self, clock="wall", digits=2):
        """"name [t1 t2 ...], ..." of every round, as the scripts print it."""
        return rounds_text(getattr(self, clock), digits)


def rounds_text(times, digits=2):
    """{name: [seconds per round]} as "name [t1 t2 ...], ..."."""
    return ", ".join(
        f"{name} [{' '.join(f'{t:.{digits}f}' for t in values)}]" for name, values in times.items()
    )


def interleaved_rounds(runs, repeats, warmups=None, prepare=None, after_round=None):
    """Time the callables of `runs` ({name: callable}) in turn, `repeats` rounds.

    Before the rounds, `warmups[name]()` runs for every name that has one, in
    the order of `runs`. `prepare(name, round_index)`, when given, runs
    untimed before each timed call and returns the call's arguments (a
    tuple); otherwise the callables take none. `after_round(round_index,
    rounds)` runs after each round, for a progress line.
    """
    for name in runs:
        if warmups and name in warmups:
            warmups[name]()
    rounds = Rounds({name: [] for name in runs}, {name: [] for name in runs}, {})
    for index in range(repeats):
        for name, function in runs.items():
            args = prepare(name, index) if prepare is not None else ()
            timing = time_call(function, *args)
            rounds.wall[name].append(timing.wall)
            rounds.cpu[name].append(timing.cpu)
            rounds.outputs[name] = timing.value
        if after_round is not None:
            after_round(index, rounds)
    return rounds


def ratio(numerator, denominator, digits=2):
    """numerator / denominator as "1.23x", or "-" when either is None."""
    if numerator is None or denominator is None:
        return "-"
    return f"{numerator / denominator:.{digits}f}x"


# -- memory, in fresh child processes ----------------------------------------------


def peak_rss_kb():
    """This process's peak resident memory in kB.

    VmHWM belongs to the process's own address space. `ru_maxrss` is not used
    where VmHWM exists: Linux carries it over from the parent through fork and
    exec, so a child of a (large) benchmark process would report at least the
    parent's peak.
    """
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    # ru_maxrss is in kilobytes on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def report_peak_rss():
    """Print this process's peak for the parent (the last line of a child)."""
    print(f"{PEAK_PREFIX}{peak_rss_kb()}")


def child_peak_rss_mb(script, args):
    """Peak RSS (MB) of a fresh `python script *args` that ends with `report_peak_rss()`."""
    command = [sys.executable, str(script), *map(str, args)]
    result = subprocess.run(command, capture_output=True, text=True, check=True)
    line = [row for row in result.stdout.splitlines() if row.startswith(PEAK_PREFIX)][-1]
    return int(line[len(PEAK_PREFIX) :]) / 1024.0


def peak_rss_at_two_sizes(script, option, sizes, args=()):
    """Peak RSS (MB) of `script option size *args` in a fresh process, for each of two sizes."""
    small, large = sizes
    return tuple(child_peak_rss_mb(script, [option, size, *args]) for size in (small, large))


# -- peers, versions and the command line -------------------------------------------


def optional_import(name):
    """The module `name`, or None (noted in MISSING) when it is not installed."""
    try:
        return importlib.import_module(name)
    except ImportError:
        MISSING.append(name)
        return None


def version_of(module, distribution=None):
    """A module's version: its __version__, else its distribution's; "not installed" for None."""
    if module is None:
        return "not installed"
    found = getattr(module, "__version__", None)
    return found if found is not None else metadata.version(distribution or module.__name__)


def versions(*pairs):
    """"tensorflow X, keras Y" followed by the (name, version) pairs given."""
    import keras
    import tensorflow as tf

    pairs = (("tensorflow", tf.__version__), ("keras", keras.__version__)) + pairs
    return ", ".join(f"{name} {version}" for name, version in pairs)


def command_line():
    """The running command as typed from the repository root."""
    script = Path(sys.argv[0]).resolve()
    try:
        script = script.relative_to(ROOT)
    except ValueError:
        pass
    return shlex.join([".venv/bin/python", str(script)] + sys.argv[1:])


def announce(versions_text):
    """Print the command, the versions and the missing peers; returns the command."""
    command = command_line()
    print(f"command: {command}")
    print(f"versions: {versions_text}, python {sys.version.split()[0]}")
    for name in MISSING:
        print(f"{name} is not installed: its columns are skipped")
    return command


def provenance(command, versions_text):
    """"`command`, date, versions", the opening of every RESULTS.md section."""
    return f"`{command}`, {datetime.date.today().isoformat()}, {versions_text}"


def add_run_options(parser, quick):
    """Add `--quick` (help text `quick`) and `--no-write` to an argparse parser."""
    parser.add_argument("--quick", action="store_true", help=quick)
    parser.add_argument("--no-write", action="store_true", help="do not update RESULTS.md")


def apply_defaults(args, defaults):
    """Fill the options left None from {name: (quick value, full value)}, by `args.quick`."""
    for name, (quick, full) in defaults.items():
        if getattr(args, name) is None:
            setattr(args, name, quick if args.quick else full)
    return args


# -- RESULTS.md ---------------------------------------------------------------------


def write_section(title, body, path=RESULTS):
    """Replace (or append) the section `## title` of RESULTS.md, keeping the rest."""
    heading = f"## {title}"
    text = path.read_text() if path.exists() else INTRO
    lines = text.rstrip("\n").split("\n")
    section = [heading, ""] + body.rstrip("\n").split("\n")
    if heading in lines:
        start = lines.index(heading)
        stop = next(
            (i for i in range(start + 1, len(lines)) if lines[i].startswith(("# ", "## "))),
            len(lines),
        )
        tail = lines[stop:]
        lines = lines[:start] + section + ([""] + tail if tail else [])
    else:
        lines = lines + [""] + section
    path.write_text("\n".join(lines) + "\n")
    try:
        shown = path.resolve().relative_to(ROOT)
    except ValueError:
        shown = path
    print(f"\nwrote {shown}")


# -- models shared by several scripts -------------------------------------------------


def digits_cnn(seed=0, name=None):
    """The compiled, untrained CNN for scikit-learn's 8x8 digits (10 logits), seeded."""
    import keras

    keras.utils.set_random_seed(seed)
    model = keras.Sequential(
        [
            keras.Input((8, 8, 1)),
            keras.layers.Conv2D(32, 3, padding="same", activation="relu"),
            keras.layers.Conv2D(32, 3, padding="same", activation="relu"),
            keras.layers.MaxPooling2D(2),
            keras.layers.Conv2D(64, 3, padding="same", activation="relu"),
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dense(10),
        ],
        name=name,
    )
    model.compile(
        optimizer=keras.optimizers.Adam(3e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    return model
