"""The lessons and the exercise stubs, wherever minise is installed (``minise tutorials list|copy``).

A wheel carries tutorials/ inside the package, as ``minise/_tutorials`` (copied at build time by
setup.py); a clone or an editable install reads the tutorials/ folder beside the package. Either
way, ``copy_lessons("my-lessons")`` writes the numbered lessons, their README and the exercise
stubs as Python files, and each lesson as a notebook too where jupytext is installed
(``pip install "minise[tutorials]"``).

    from minise import lessons
    for name, title in lessons.list_lessons():
        print(name, title)                       # 01_autograd.py  Autograd, one op at a time ...
    lessons.copy_lessons("my-lessons")           # my-lessons/01_autograd.py, .ipynb, exercises/ ...
"""
import os
import pathlib

from .io.atomic import atomic_write

_HERE = pathlib.Path(__file__).resolve().parent
PLACES = (_HERE / "_tutorials", _HERE.parent / "tutorials")      # installed from a wheel; a clone

__all__ = ["lessons_folder", "list_lessons", "list_exercises", "copy_lessons", "PLACES"]


def lessons_folder():
    """The folder the lessons are read from: the packaged copy, else the clone's tutorials/."""
    for folder in PLACES:
        if any(folder.glob("[0-9][0-9]_*.py")):
            return folder
    raise FileNotFoundError("the lessons are not installed with this minise (looked in "
                            + " and ".join(str(folder) for folder in PLACES)
                            + "); reinstall it from a wheel or a source distribution")


def _lesson_paths(folder):
    return sorted(folder.glob("[0-9][0-9]_*.py"))


def _title(path):
    """A lesson's title: the first markdown heading (``# # Title``) of its first cell."""
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.startswith("# # "):
                return line[4:].strip()
    return ""


def list_lessons():
    """``(file name, title)`` of each numbered lesson, in order."""
    return [(path.name, _title(path)) for path in _lesson_paths(lessons_folder())]


def list_exercises():
    """The file names of the exercise stubs (graded with ``minise grade FILE``)."""
    return sorted(path.name for path in (lessons_folder() / "exercises").glob("*.py"))


def _notebook_text(path, jupytext):
    return jupytext.writes(jupytext.read(path), fmt="ipynb")


def _plan(folder, notebooks):
    """(target relative path, source path or None, text or None) for every file to write."""
    plan = [(pathlib.Path("README.md"), folder / "README.md", None)] if (folder / "README.md").exists() else []
    stubs = sorted((folder / "exercises").glob("*.py"))
    plan += [(pathlib.Path("exercises") / path.name, path, None) for path in stubs]
    for path in sorted(folder.glob("*.py")):            # the lessons and the helpers they import
        plan.append((pathlib.Path(path.name), path, None))
        if notebooks is not None and path in _lesson_paths(folder):
            plan.append((pathlib.Path(path.name).with_suffix(".ipynb"), None, _notebook_text(path, notebooks)))
    return plan


def _jupytext(notebooks):
    """The jupytext module when notebooks are wanted and possible; None for Python files only."""
    if notebooks is False:
        return None
    try:
        import jupytext
    except ImportError:
        if notebooks:
            raise ImportError('notebooks need jupytext: pip install "minise[tutorials]"') from None
        return None
    return jupytext


def copy_lessons(destination, notebooks=None, overwrite=False):
    """Write the lessons (with the helpers they import), their README and the exercise stubs into
    ``destination``; returns the paths written.

    ``notebooks``: None writes a notebook (.ipynb) beside each lesson where jupytext is installed,
    True requires it, False writes Python files only. An existing file is an error naming it, and
    nothing is written, unless ``overwrite``. Each file is written atomically.
    """
    destination = pathlib.Path(destination)
    plan = _plan(lessons_folder(), _jupytext(notebooks))
    existing = [str(destination / target) for target, _, _ in plan if (destination / target).exists()]
    if existing and not overwrite:
        raise FileExistsError(f"{len(existing)} file(s) already in {destination}, e.g. {existing[0]}; "
                              "your work is never overwritten: choose another folder, or replace them "
                              "with --force (overwrite=True)")
    written = []
    for target, source, text in plan:
        path = destination / target
        os.makedirs(path.parent, exist_ok=True)
        data = source.read_bytes() if source is not None else text.encode("utf-8")
        with atomic_write(path) as f:
            f.write(data)
        written.append(path)
    return written
