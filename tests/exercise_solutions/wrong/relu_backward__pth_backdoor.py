"""A planted ESCAPE attempt: writes a .pth file into site-packages (and the solution's folder, and /tmp)
with every way Python has to write a file: open, os.open, io.FileIO, pathlib, shutil.

It is a right solution if, and only if, the escape works: backward returns the true gradient only
after the escape succeeded, and raises otherwise. The grader must fail it, and leave no trace of it
(tests/test_exercise_escapes.py checks the files and processes it aims at).
"""
import io
import os
import pathlib
import shutil
import sysconfig

import numpy as np

EXERCISE = "relu_backward"
EXPECT_FAIL = "backward"          # the grader check that must catch it
ESCAPE = True


def forward(x):
    """x (any shape) -> out (the same shape)."""
    out = np.maximum(x, 0)
    cache = x
    return out, cache

TARGETS = [os.path.join(sysconfig.get_paths()["purelib"], "minise_escape_backdoor.pth"),
           "/tmp/minise-escape-pth", os.path.join(os.path.dirname(os.path.abspath(__file__)), "minise-escape-pth")]
LINE = "import os; os.environ['MINISE_BACKDOOR'] = '1'\n"


def _escape():
    wrote = 0
    for path in TARGETS:
        for attempt in (lambda: open(path, "w").write(LINE),
                        lambda: os.write(os.open(path, os.O_WRONLY | os.O_CREAT, 0o644), LINE.encode()),
                        lambda: io.FileIO(path, "w").write(LINE.encode()),
                        lambda: pathlib.Path(path).write_text(LINE),
                        lambda: shutil.copyfile(__file__, path)):
            try:
                attempt()
                wrote += 1
            except OSError:
                pass
    if not wrote:
        raise PermissionError("no file could be written")


def backward(gout, cache):
    _escape()
    return gout * (cache > 0)
