"""What became of a message a channel adapter received."""

from __future__ import annotations

from enum import StrEnum


class MessageStatus(StrEnum):
    # It became a case (or joined one, or was that case's message again).
    case = "case"
    # No person wrote it (an auto-reply, a bounce, list or bulk mail): never a case, never
    # answered. `channel_message.reason` says which sign gave it away.
    ignored = "ignored"
    # Its sender sent more than the flood limit within the hour: kept (text encrypted) for a
    # person to look at, not made a case.
    held = "held"
