"""`main`: run the command, turning errors into one line and an exit status."""

import sys

from keras_explain.cli.parser import build_parser, command_names
from keras_explain.cli.runtime import quiet_runtime_logs
from keras_explain.cli.usage import PROG, UsageError, error_message


def main(argv=None):
    """Run `keras-explain` with `argv` (default: the process arguments).

    Args:
        argv: list of str, the arguments after the program name. Defaults to
            None (`sys.argv[1:]`).

    Returns:
        int, the exit status: 0 success, 2 bad usage or input, 1 an
        unexpected failure. With `--debug` errors are re-raised instead.

    TensorFlow's own log lines stay off stderr (see
    `keras_explain.cli.runtime`): the level is `TF_CPP_MIN_LOG_LEVEL` when the
    environment sets it, 3 otherwise, and `--debug` leaves the environment as
    it is.

    Example:

    ```python
    from keras_explain.cli import main
    main(["explain", "model.keras", "cat.png", "--method", "saliency", "--out", "out"])
    ```
    """
    argv = sys.argv[1:] if argv is None else [str(a) for a in argv]
    debug = "--debug" in argv
    quiet_runtime_logs(argv)  # before anything imports TensorFlow
    try:
        args = build_parser().parse_args(argv)
        if args.command is None:
            raise UsageError(f"expected a command, {command_names()}, received none (see {PROG} --help)")
        return args.run(args)
    except SystemExit as stop:  # --help and --version
        return stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 2)
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    except (UsageError, ValueError, OSError) as error:
        if debug:
            raise
        print(f"{PROG}: error: {error_message(error)}", file=sys.stderr)
        return 2
    except Exception as error:  # noqa: BLE001 - one line instead of a traceback
        if debug:
            raise
        print(
            f"{PROG}: error: {type(error).__name__}: {error_message(error)} "
            f"(run again with --debug for the traceback)",
            file=sys.stderr,
        )
        return 1
