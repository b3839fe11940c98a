"""minise.allocator: freed memory is reused without the kernel faulting pages in again."""
import os
import platform
import subprocess
import sys

import pytest

glibc_only = pytest.mark.skipif(platform.system() != "Linux" or platform.libc_ver()[0] != "glibc",
                                reason="the setting is for glibc's malloc on Linux")

# 30 times: allocate and fill arrays of 8, 12 and 4 MiB (like a layer's temporaries), free them;
# print the page faults that took.
PROBE = """
import os, resource, numpy as np, minise
from minise import allocator
if os.environ["TUNE"] == "1":
    allocator.tune_malloc()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(30):
    a = np.ones(2 * 2 ** 20, dtype=np.float32)
    b = np.ones(3 * 2 ** 20, dtype=np.float32)
    c = np.ones(1 * 2 ** 20, dtype=np.float32)
    del a, b, c
print(allocator._applied, resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def probe(tune, opt_out=False):
    """Run PROBE in a fresh process: was the setting applied, and how many page faults it took."""
    env = dict(os.environ, TUNE="1" if tune else "0", MINISE_TUNE_MALLOC="0" if opt_out else "1")
    out = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, check=True)
    applied, faults = out.stdout.split()
    return {"True": True, "False": False, "None": None}[applied], int(faults)


@glibc_only
def test_freed_arrays_are_reused_without_new_page_faults():
    applied, faults = probe(tune=True)
    untuned_applied, untuned_faults = probe(tune=False)       # import minise alone: the allocator as it was
    assert applied is True and untuned_applied is None       # importing minise did not call it
    pages = 24 * 2 ** 20 // 4096                     # 6144 pages per round of three arrays
    assert untuned_faults > 3 * pages                # glibc alone: pages faulted in again, round after round
    assert faults < 1.5 * pages                      # tuned: the first round's pages, reused after that


def test_opting_out_leaves_the_allocator_alone():
    env = dict(os.environ, MINISE_TUNE_MALLOC="0")
    out = subprocess.run([sys.executable, "-c", "import minise; print(minise.allocator.tune_malloc())"],
                         env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@glibc_only
def test_opting_out_with_the_environment_wins_over_the_call():
    applied, _ = probe(tune=True, opt_out=True)
    assert applied is False


def test_importing_minise_changes_no_allocator_setting():
    """The tuning is opt-in: after ``import minise`` (and its subpackages) nothing was applied."""
    code = ("import minise, minise.nn, minise.train, minise.data; from minise import allocator; "
            "print(allocator._applied)")
    env = dict(os.environ, MINISE_TUNE_MALLOC="1")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "None"
