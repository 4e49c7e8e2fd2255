"""`python -m eval`: the same as `qa eval`."""

import sys

from eval.cli import main

sys.exit(main())
