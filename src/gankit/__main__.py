"""`python -m gankit ...` (and `torchrun -m gankit ...`) run the command line."""

import sys

from .cli import entry

sys.exit(entry())
