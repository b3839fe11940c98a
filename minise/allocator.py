"""Keep freed memory for reuse: the C allocator setting that makes NumPy training fast on Linux.

A training step allocates and frees the same large arrays over and over (activations, im2col
matrices, gradients: hundreds of kilobytes to tens of megabytes each). glibc's malloc serves a
block above its *mmap threshold* with a fresh mapping from the kernel and returns it on free, so
the next array of that size starts as untouched pages, and the kernel has to fault in and zero
every 4 KiB page again: for a CIFAR-sized SE-ResNet that is about a third of the step. glibc
raises the threshold by itself after some frees, but not above sizes it has already given back,
and it also returns the top of the heap to the kernel as soon as 128 KiB are free there.

Two settings (``mallopt``, documented in mallopt(3)) stop that round trip:

    M_MMAP_THRESHOLD = 32 MiB     blocks up to 32 MiB come from the heap, which keeps freed blocks
    M_TRIM_THRESHOLD = 1 GiB      free memory at the top of the heap is kept up to 1 GiB

Freed blocks are then reused by the next allocation of a similar size, with their pages already
mapped. The price: the process keeps up to that much freed memory instead of returning it at once
(the resident size stays near its peak). Results do not change, only where memory comes from.
CPU tuning guides for deep-learning frameworks (AMD's ZenDNN user guide, "Memory Allocators", for
one) suggest swapping in TCMalloc or jemalloc for the same reason; this is the no-install version.

The settings are opt-in: ``import minise`` changes nothing in the process. Call
``minise.allocator.tune_malloc()`` once, early (the ``minise`` command line does it for training),
on Linux with glibc; elsewhere, or with ``MINISE_TUNE_MALLOC=0`` in the environment, it does
nothing and returns False. It is process-wide: another library in the same process (PyTorch in the
benchmarks) gets the same allocator behaviour, which keeps comparisons fair.
"""
import ctypes
import os
import platform

M_TRIM_THRESHOLD = -1          # constants from glibc's malloc.h
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 32 * 2 ** 20   # glibc's largest allowed value on 64-bit systems
TRIM_THRESHOLD = 2 ** 30

_applied = None


def tune_malloc():
    """Apply the two settings above (once); True where they took effect, False where skipped
    (not glibc, or ``MINISE_TUNE_MALLOC=0``)."""
    global _applied
    if _applied is None:
        _applied = False
        if os.environ.get("MINISE_TUNE_MALLOC", "1").strip() not in ("0", "false", "no", "off") \
                and platform.system() == "Linux" and platform.libc_ver()[0] == "glibc":
            try:
                mallopt = ctypes.CDLL(None).mallopt
            except (OSError, AttributeError):
                return False
            mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
            _applied = (bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD))
                        and bool(mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD)))
    return _applied
