"""``python -m minise.exercises FILE [FILE ...]``: grade exercise solutions (as ``minise grade``)."""
import sys

from .command import grade_main

sys.exit(grade_main())
