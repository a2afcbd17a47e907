"""What every file import of rows tells its caller: counts by outcome, and each refused row."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

# Told of each refused row: its number, the field and the reason.
OnReject = Callable[[int, str | None, str], None]


@dataclass
class ImportCounts:
    accepted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0

    def as_dict(self) -> dict[str, int]:
        return {"accepted": self.accepted, "updated": self.updated,
                "unchanged": self.unchanged, "rejected": self.rejected}
