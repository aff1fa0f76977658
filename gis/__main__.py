"""`python -m gis …`: the command line (see gis.cli.main)."""

import sys

from gis.cli.main import main

sys.exit(main())
