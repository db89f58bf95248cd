"""The guide's ``python main.py cache stats``, verbatim: forwards to the ``perflab`` command.

Run from the checkout's root folder: ``python main.py cache stats``,
``python main.py config show``, ``python main.py --help``.
"""

from __future__ import annotations

import sys
from pathlib import Path

# From a checkout that was never pip-installed, find the package next to this file.
sys.path.insert(0, str(Path(__file__).resolve().parent))

from perflab.cli import main

if __name__ == "__main__":
    sys.exit(main())
