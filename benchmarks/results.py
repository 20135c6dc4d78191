"""Shared by the benchmark scripts: the command line and RESULTS.md sections."""

import shlex
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "RESULTS.md"
INTRO = (
    "# Benchmark results\n\n"
    "Every ratio below is measured in one run on a 2-core CPU machine; "
    "absolute seconds are noise.\n"
)


def command_line():
    """The running command as typed from the repository root."""
    script = Path(sys.argv[0]).resolve()
    try:
        script = script.relative_to(ROOT)
    except ValueError:
        pass
    return shlex.join([".venv/bin/python", str(script)] + sys.argv[1:])


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
