"""The frozen desk's entry point: the `frontdesk` command (see frontdesk.spec)."""

import sys

from frontdesk.cli import main

if __name__ == "__main__":
    sys.exit(main())
