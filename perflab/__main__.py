"""``python -m perflab``: the same as the ``perflab`` command."""

from __future__ import annotations

import sys

from perflab.cli import main

if __name__ == "__main__":
    sys.exit(main())
