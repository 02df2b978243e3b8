"""Errors a user can fix: Spanish text saying what is wrong, where, and what to do."""

from __future__ import annotations


class UserError(Exception):
    """An error caused by input a person can correct; never a broken invariant.

    ``where`` names the place (file, line, column, acta) and ``hint`` what to do;
    ``str()`` joins them into one Spanish message ready to show.
    """

    def __init__(self, message: str, *, where: str = "", hint: str = "") -> None:
        self.message = message
        self.where = where
        self.hint = hint
        super().__init__(self.text)

    @property
    def text(self) -> str:
        parts = [f"{self.where}: {self.message}" if self.where else self.message]
        if self.hint:
            parts.append(self.hint)
        return " ".join(parts)
