"""``minise exercises``: list the exercises, or copy them into a folder to hand out (minise.exercises parses)."""
from ..exercises import command

OWN_OPTIONS = True            # main() hands this command its arguments unparsed


def register(commands):
    commands.add_parser("exercises", help="list the exercises, or copy them into a folder to hand out",
                        add_help=False, description="See `minise exercises --help`.")


def main(argv):
    return command.exercises_main(argv)
