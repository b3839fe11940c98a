"""``minise grade``: grade hand-written backward passes; the grader (minise.exercises) parses its own options."""
from ..exercises import command

OWN_OPTIONS = True            # main() hands this command its arguments unparsed


def register(commands):
    commands.add_parser("grade", help="grade hand-written backward passes (the exercises: see `minise exercises`)",
                        add_help=False, description="See `minise grade --help`.")


def main(argv):
    return command.grade_main(argv)
