"""The ``minise grade`` and ``minise exercises`` commands: their options and what they do.

    minise exercises list                      the exercises, one a line, with what each asks
    minise exercises copy DIR [NAME ...]       write the exercise files (stubs, never solutions) into DIR
    minise grade FILE [FILE ...] [--exercise NAME] [--format text|csv|json] [--output FILE]
                 [--seed N] [--timeout S] [--require-confinement]

Exit codes of ``minise grade``:
  0  every file was graded and passed every check
  1  at least one file was graded and failed a check (or its code could not be loaded)
  2  at least one file could not be graded (missing, unreadable, not .py or .ipynb), or bad options
  3  --require-confinement was given and the kernel could not confine the solutions (nothing ran)
The batch always goes on to the next file; the highest code wins.
"""
import argparse
import os
import sys

from .grader import GRADED, NOT_GRADED, UNCONFINED, Grade, grade
from .handout import STUBS, copy_stubs
from .report import Writer
from .sandbox_client import clean
from .specs import EXERCISES

EXIT_CODES = {GRADED: 1, NOT_GRADED: 2, UNCONFINED: 3}


def add_grade_arguments(parser):
    parser.add_argument("files", nargs="+", help="solution files (.py, or .ipynb notebooks)")
    parser.add_argument("--exercise", choices=sorted(EXERCISES),
                        help="grade every file as this exercise (default: each file's EXERCISE line)")
    parser.add_argument("--format", choices=["text", "csv", "json"], default="text",
                        help="text for reading (default); csv or json (JSON Lines) for a gradebook")
    parser.add_argument("--output", metavar="FILE", help="write the grades to FILE (default: standard output)")
    parser.add_argument("--seed", type=int, help="repeat a run exactly (default: fresh random cases)")
    parser.add_argument("--timeout", type=float, default=20.0, help="seconds allowed per call (default 20)")
    parser.add_argument("--require-confinement", action="store_true",
                        help="refuse to run any solution unless the kernel confines it (Linux with Landlock)")


def run_grade(args):
    """Grade every file, writing each grade as soon as it is known; returns the exit code."""
    stream = sys.stdout if args.output is None else open(args.output, "w", encoding="utf-8", newline="")
    worst = 0
    try:
        writer = Writer(stream, args.format)
        for path in args.files:
            try:
                result = grade(path, args.exercise, args.seed, args.timeout, args.require_confinement)
            except Exception as exc:     # never the end of the batch: this file's row says what went wrong
                result = Grade(path, args.exercise, args.seed, [], f"the grader failed on this file "
                               f"({type(exc).__name__}: {clean(exc)})", status=NOT_GRADED)
            writer.write(result)
            worst = max(worst, 0 if result.passed else EXIT_CODES[result.status])
    finally:
        if stream is not sys.stdout:
            stream.close()
    return worst


def grade_main(argv=None):
    """``minise grade ...``; returns the exit code."""
    parser = argparse.ArgumentParser(prog="minise grade", description="Grade hand-written backward passes.",
                                     epilog=__doc__.split("Exit codes")[1].join(["exit codes", ""]),
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add_grade_arguments(parser)
    return run_grade(parser.parse_args(argv))


def add_exercises_arguments(parser):
    actions = parser.add_subparsers(dest="action", metavar="ACTION")
    actions.add_parser("list", help="list the exercises")
    copy = actions.add_parser("copy", help="write the exercise files into a folder")
    copy.add_argument("directory", help="the folder (created if missing)")
    copy.add_argument("names", nargs="*", metavar="NAME", help="only these exercises (default: all)")
    copy.add_argument("--force", action="store_true", help="overwrite files that exist")


def run_exercises(args):
    if args.action == "copy":
        unknown = [n for n in args.names if n not in STUBS]
        if unknown:
            print(f"minise exercises: no exercise named {', '.join(unknown)}; `minise exercises list` names them",
                  file=sys.stderr)
            return 2
        try:
            written = copy_stubs(args.directory, args.names or list(STUBS), args.force)
        except (OSError, FileExistsError) as exc:
            print(f"minise exercises: {exc}", file=sys.stderr)
            return 2
        for path in written:
            print(path)
        print(f"fill in backward() in each, then: minise grade {os.path.join(args.directory, '<file>.py')}")
        return 0
    width = max(map(len, EXERCISES))
    for name, exercise in EXERCISES.items():
        print(f"{name:<{width}}  {exercise.title}")
    return 0


def exercises_main(argv=None):
    """``minise exercises list|copy ...``; returns the exit code."""
    parser = argparse.ArgumentParser(prog="minise exercises", description="The exercises handed to students.")
    add_exercises_arguments(parser)
    args = parser.parse_args(argv)
    if args.action is None:
        args.action = "list"
    return run_exercises(args)
