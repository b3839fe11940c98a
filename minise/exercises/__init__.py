"""Exercises: re-derive a layer's backward pass by hand, and have it graded.

    minise grade tutorials/exercises/relu_backward.py        (or: python -m minise.exercises FILE)

Each exercise file (tutorials/exercises/*.py) gives a NumPy ``forward`` and leaves ``backward`` to
write. :func:`grade` runs the file in its own confined process, on fresh random inputs, and checks it
against minise's own ops and against finite differences (see :mod:`minise.exercises.grader` for the
checks and :mod:`minise.exercises.sandbox` for the confinement).
"""
from .grader import Grade, grade, main
from .specs import EXERCISES

__all__ = ["grade", "main", "Grade", "EXERCISES"]
