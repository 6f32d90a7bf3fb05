"""`python -m lanner`."""

from __future__ import annotations

import sys

from lanner.cli import main

if __name__ == "__main__":
    sys.exit(main())
