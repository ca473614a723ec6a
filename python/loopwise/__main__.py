"""``python -m loopwise``: the same command line as the ``loopwise`` script."""

from .cli import main

raise SystemExit(main())
