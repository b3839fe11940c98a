"""``minise grade`` and ``minise exercises``: the grader's commands. minise.exercises parses their
options itself, so here they are only named (for ``minise --help``) and handed their arguments."""
from ..exercises import command


class OwnOptions:
    """A command whose arguments go, unparsed, to ``main(argv)``."""

    OWN_OPTIONS = True

    def __init__(self, name, help, main):
        self.NAME, self.help, self.main = name, help, main

    def register(self, commands):
        commands.add_parser(self.NAME, help=self.help, add_help=False, description=f"See `minise {self.NAME} --help`.")


grade = OwnOptions("grade", "grade hand-written backward passes (the exercises: see `minise exercises`)",
                   lambda argv: command.grade_main(argv))
exercises = OwnOptions("exercises", "list the exercises, or copy them into a folder to hand out",
                       lambda argv: command.exercises_main(argv))
