"""Errors a user can act on.

Every error the CLI shows is one of these, printed as one line that names the file, the line or
record, and the field. Anything else is a bug and is allowed to show its traceback.
"""

from __future__ import annotations

__all__ = ["InputError", "TidingsError", "WorkspaceError"]


class TidingsError(Exception):
    """Base class: the message is meant for the person running the command."""


class WorkspaceError(TidingsError):
    """The workspace is missing, not a workspace, or in use."""


class InputError(TidingsError):
    """An input cannot be read as asked. Nothing was written.

    ``where`` is "file", "file:line" or "file, record N"; ``field`` names the column or JSON
    field at fault, when there is one; ``hint`` says what to do about it.
    """

    def __init__(
        self,
        file: str,
        reason: str,
        *,
        line: int | None = None,
        record: int | None = None,
        field: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.file = file
        self.reason = reason
        self.line = line
        self.record = record
        self.field = field
        self.hint = hint
        where = file
        if line is not None:
            where = f"{file}:{line}"
        elif record is not None:
            where = f"{file}, record {record}"
        message = f"{where}: {'field ' + repr(field) + ': ' if field else ''}{reason}"
        if hint:
            message += f" ({hint})"
        super().__init__(message)
