"""``python -m minise.exercises FILE [FILE ...]``: grade exercise solutions."""
import sys

from .grader import main

sys.exit(main())
