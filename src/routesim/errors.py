"""Exceptions raised by routesim; the CLI maps them to exit codes (2 for input, 1 otherwise)."""

from __future__ import annotations


class RoutesimError(Exception):
    """Base class of every error routesim raises on purpose."""


class ScenarioError(RoutesimError):
    """A scenario (file, ``extends`` chain or ``--set`` override) is invalid.

    Attributes:
        issues: one ``"key.path: what is wrong"`` line per problem, all problems at once.
    """

    def __init__(self, issues: list[str]) -> None:
        self.issues = list(issues)
        super().__init__("\n".join(self.issues))


class SimulationError(RoutesimError):
    """The engine reached a state it cannot continue from (a bug, not bad input)."""
