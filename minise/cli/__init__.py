"""The ``minise`` command: one file per sub-command, each with ``register(commands)`` and ``run(args)``.

    minise train                          SE-ResNet-20 on the bundled 8×8 digits (about half a minute)
    minise train --dataset cifar10 --data-dir data --download --epochs 30
    minise evaluate runs/se_resnet20-digits-20240101-120000/last.npz
    minise summary se_resnet50
    minise gradcheck conv2d --stride 2 --padding 1
    minise compare                        SE-ResNet-20 against its plain twin, one seed
    minise ablate                         the paper's SE ablations in miniature, over seeds, resumable
    minise grade my_conv2d.py             the exercises' grader
    minise exercises copy DIR             the exercises, to hand out
    minise tutorials copy DIR             the lessons, as Python files and notebooks

Every command explains itself with ``--help``. Bad input (a missing file or folder, a damaged
checkpoint, an unknown model) ends with a one-line message and exit status 2; a failed check or a
diverged training run with status 1; Ctrl-C with 130. A new command is a new file here with
``register`` and ``run``, and one entry in ``COMMANDS``; a command that parses its own options
is an ``OwnOptions`` (see exercises.py).
"""
import argparse
import contextlib
import signal
import sys
import threading

from .. import __version__
from ..allocator import tune_malloc
from ..backend import BackendError
from ..nn import StateDictError
from ..train import DivergenceError, Terminated
from . import ablate, compare, evaluate, gradcheck, summary, train, tutorials
from .common import (
    EXIT_BAD_INPUT,
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_TERMINATED,
    HelpFormatter,
    UsageError,
    one_line,
    short_problems,
)
from .exercises import exercises, grade
from .gradcheck import IMAGE_OPS, VECTOR_OPS

COMMANDS = (train, evaluate, summary, gradcheck, compare, ablate, grade, exercises, tutorials)

__all__ = ["main", "build_parser", "COMMANDS", "UsageError", "IMAGE_OPS", "VECTOR_OPS"]


def build_parser():
    parser = argparse.ArgumentParser(
        prog="minise", formatter_class=HelpFormatter,
        description="Squeeze-and-Excitation networks from scratch: train, evaluate, inspect and check gradients.",
        epilog="examples:\n  minise train\n  minise compare\n  minise summary se_resnet50\n"
               "  minise gradcheck conv2d --stride 2\n  minise grade my_conv2d.py\n"
               "Run `minise COMMAND --help` for the options of a command.")
    parser.add_argument("--version", action="version", version=f"minise {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    for command in COMMANDS:
        command.register(commands)
    return parser


def _error_text(exc):
    if isinstance(exc, StateDictError):
        return f"a checkpoint does not fit the model ({short_problems(exc)})"
    return one_line(exc)


@contextlib.contextmanager
def _sigterm_stops():
    """SIGTERM raises Terminated (exit status 143, no traceback) for the whole command, not only
    while training saves and stops on it (minise/train/interrupt.py)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum, frame):
        raise Terminated()
    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def main(argv=None):
    """Run the ``minise`` command with ``argv`` (default: sys.argv[1:]); returns the exit status."""
    argv = sys.argv[1:] if argv is None else list(argv)
    own = {command.NAME: command for command in COMMANDS if getattr(command, "OWN_OPTIONS", False)}
    if argv[:1] and argv[0] in own:                 # e.g. the grader parses its own options
        return own[argv[0]].main(argv[1:])
    parser = build_parser()
    args = parser.parse_args(argv)
    args.argv = argv
    if args.command is None:
        parser.print_help()
        return EXIT_BAD_INPUT
    tune_malloc()                                   # keep freed memory for reuse: see minise/allocator.py
    try:
        with _sigterm_stops():
            return args.handler(args)
    except Terminated:
        return EXIT_TERMINATED
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except DivergenceError as exc:
        print(f"minise {args.command}: {one_line(exc)}", file=sys.stderr)
        return EXIT_FAILED
    except (ValueError, OSError, BackendError) as exc:
        print(f"minise {args.command}: error: {_error_text(exc)}", file=sys.stderr)
        return EXIT_BAD_INPUT
