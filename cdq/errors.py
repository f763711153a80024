"""The one small exception hierarchy of cdq.

Every error a user can cause derives from :class:`CdqError`. The CLI maps each class to an exit code
(``exit_code``) and prints ``str(error)`` as one line: what happened, where, and what to do next.
"""

from __future__ import annotations


class CdqError(Exception):
    """Base class of every cdq error; ``exit_code`` is what the CLI exits with."""

    exit_code = 2

    def __init__(self, message: str, *, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


class InputError(CdqError):
    """An input file cannot be read at all (wrong format, truncated, encrypted, garbage).

    Carries the file and, where known, the row and column, so the message can say where.
    """

    def __init__(
        self,
        path: object,
        problem: str,
        *,
        row: int | None = None,
        column: str | None = None,
        hint: str | None = None,
    ):
        self.path = str(path)
        self.row = row
        self.column = column
        self.problem = problem
        where = self.path
        if row is not None:
            where += f", row {row}"
        if column is not None:
            where += f", column {column!r}"
        super().__init__(f"{where}: {problem}", hint=hint)


class ConfigError(CdqError):
    """A rules/pipeline/mapping YAML file is invalid; the message names file, key and line."""


class UsageError(CdqError):
    """The command was called in a way that cannot work (missing option, conflicting flags)."""


class CheckFailed(CdqError):
    """The data failed a quality gate or check; exit code 1, nothing was loaded."""

    exit_code = 1

    def __init__(self, message: str, *, failure_cases=None, hint: str | None = None):
        super().__init__(message, hint=hint)
        self.failure_cases = failure_cases
