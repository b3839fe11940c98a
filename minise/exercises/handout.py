"""The exercise files handed to students, shipped inside the package (minise/exercises/stubs/).

Each stub gives a NumPy ``forward`` and leaves ``backward`` to write; none holds a solution (the
reference solutions live with the tests, outside the package). ``minise exercises copy DIR``
writes them where a student wants them, so that ``pip install minise`` is all a class needs.
The given forward is also what the grader times the large case against (:func:`given_forward`).
"""
import functools
import os

from ..io.atomic import copy_file

STUB_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "stubs")
STUBS = {name[:-3]: os.path.join(STUB_DIR, name) for name in sorted(os.listdir(STUB_DIR)) if name.endswith(".py")}


@functools.lru_cache(maxsize=None)
def given_forward(name):
    """The ``forward`` of the stub ``name``, run here to time it (the package's own file, not a student's)."""
    namespace = {"__name__": f"minise_stub_{name}"}
    with open(STUBS[name], encoding="utf-8") as f:
        exec(compile(f.read(), STUBS[name], "exec"), namespace)
    return namespace["forward"]


def copy_stubs(directory, names, force=False):
    """Write the stubs ``names`` into ``directory``; returns the paths written. Existing files are
    kept (FileExistsError) unless ``force``; each file is written whole or not at all."""
    os.makedirs(directory, exist_ok=True)
    targets = [(STUBS[name], os.path.join(directory, name + ".py")) for name in names]
    existing = [target for _, target in targets if os.path.exists(target)]
    if existing and not force:
        raise FileExistsError(f"{', '.join(existing)} already exist{'s' if len(existing) == 1 else ''}: "
                              "a student's work is never overwritten (pass --force to replace them)")
    for source, target in targets:
        copy_file(source, target)
    return [target for _, target in targets]
