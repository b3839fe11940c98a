"""A solution's source text, read by the grader (never by the solution's process): a .py file, or
the code cells of a Jupyter notebook (.ipynb), parsed as JSON, never executed here.

A notebook's ``%magic`` and ``!shell`` lines are IPython, not Python: they are turned into comments,
and the grade says so. Anything else (another extension, bytes that are not UTF-8, a notebook that
is not valid JSON) is a :class:`SourceError` naming what was wrong and what is expected.
"""
import json
import os

MAX_SOURCE = 1 << 20              # bytes: an exercise is a page of code


class SourceError(ValueError):
    """The file cannot be graded: missing, unreadable, not text, not a notebook."""


def read_source(path):
    """The Python source of the solution at ``path`` (a .py file or a .ipynb notebook)."""
    extension = os.path.splitext(path)[1].lower()
    if extension not in (".py", ".ipynb"):
        raise SourceError(f"{path}: expected a Python file (.py) or a Jupyter notebook (.ipynb), "
                          f"not {extension or 'a file without an extension'}")
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_SOURCE + 1)
    except FileNotFoundError:
        raise SourceError(f"{path}: no such file") from None
    except OSError as exc:
        raise SourceError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    if len(data) > MAX_SOURCE:
        raise SourceError(f"{path}: larger than {MAX_SOURCE >> 20} MB; an exercise's solution is a page of code")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SourceError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    return text if extension == ".py" else notebook_code(text, path)


def notebook_code(text, path="notebook"):
    """The code cells of a notebook, in order, as one Python source."""
    try:
        cells = json.loads(text)["cells"]
        if not isinstance(cells, list):
            raise TypeError
    except (ValueError, KeyError, TypeError):
        raise SourceError(f"{path}: not a Jupyter notebook (expected JSON with a list of \"cells\")") from None
    parts = []
    for cell in cells:
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        body = cell.get("source", "")
        body = "".join(body) if isinstance(body, list) else str(body)
        lines = [f"# (IPython, not run by the grader) {line}" if line.lstrip().startswith(("%", "!")) else line
                 for line in body.splitlines()]
        parts.append("\n".join(lines))
    if not parts:
        raise SourceError(f"{path}: the notebook has no code cells")
    return "\n\n".join(parts) + "\n"
