"""``python -m routesim``: the same as the ``routesim`` command."""

from routesim.cli import console

console()
