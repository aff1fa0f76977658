"""`python -m gis …`: the command line (see gis.cli)."""

import sys

from gis.cli import main

sys.exit(main())
