"""``python -m routesim``: the same as the ``routesim`` command."""

from .cli import console

console()
