"""Exercises: re-derive a layer's backward pass by hand, and have it graded.

    minise exercises copy my_exercises/          the exercise files (NumPy forward given, backward to write)
    minise grade my_exercises/relu_backward.py   (or: python -m minise.exercises FILE)

:func:`grade` runs the file in its own process, confined by the kernel, on fresh random cases, and
checks it against minise's own ops and against finite differences (:mod:`.checks` lists the
checks, :mod:`.kernel` the confinement, :mod:`.command` the options and exit codes).
"""
from .grader import Grade, grade
from .specs import EXERCISES

__all__ = ["grade", "Grade", "EXERCISES"]
