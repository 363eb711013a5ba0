"""``python -m routesim``: the same as the ``routesim`` command."""

import sys

from .cli import main

sys.exit(main())
