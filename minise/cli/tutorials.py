"""``minise tutorials``: list the lessons and exercises, or copy them into a folder of your own."""
from .. import lessons
from .common import add_command

EXAMPLES = ("minise tutorials list", "minise tutorials copy my-lessons",
            "minise tutorials copy my-lessons --no-notebooks")


def register(commands):
    p = add_command(commands, "tutorials", "list the lessons and exercises, or copy them into a folder",
                    "The numbered lessons, their README and the exercise stubs ship with minise.\n"
                    "`list` shows them; `copy DIR` writes them into DIR as Python files, and each lesson\n"
                    'also as a notebook where jupytext is installed (pip install "minise[tutorials]").',
                    EXAMPLES)
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    actions.add_parser("list", help="the lessons and exercises, in order")
    copy = actions.add_parser("copy", help="write the lessons and exercises into a folder")
    copy.add_argument("folder", help="where to write them (created if missing)")
    copy.add_argument("--force", action="store_true", help="overwrite files already there")
    copy.add_argument("--no-notebooks", action="store_true", help="Python files only, even with jupytext")
    p.set_defaults(handler=run)


def run(args):
    if args.action == "list":
        for name, title in lessons.list_lessons():
            print(f"{name:34} {title}")
        print("exercises/ (grade one with `minise grade FILE`): " + ", ".join(lessons.list_exercises()))
        print(f"from {lessons.lessons_folder()}; copy them with `minise tutorials copy DIR`")
        return 0
    written = lessons.copy_lessons(args.folder, notebooks=False if args.no_notebooks else None,
                                   overwrite=args.force)
    notebooks = sum(path.suffix == ".ipynb" for path in written)
    why = "" if notebooks or args.no_notebooks else ': pip install "minise[tutorials]" for them'
    print(f"wrote {len(written)} files to {args.folder} ({notebooks} notebooks{why}); "
          f"start with: python {args.folder}/01_autograd.py")
    return 0
