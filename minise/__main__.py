"""``python -m minise``: the same as the ``minise`` command."""
from .cli import main

raise SystemExit(main())
