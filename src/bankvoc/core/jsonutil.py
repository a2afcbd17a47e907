"""Fast, canonical JSON for hashing and storage (orjson; the stdlib only for its edge cases)."""

from __future__ import annotations

import json
from typing import Any

import orjson

_CANONICAL = orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS


def canonical_json(value: Any) -> bytes:
    """Sorted keys, no spaces, UTF-8: the same value always gives the same bytes."""
    try:
        return orjson.dumps(value, default=str, option=_CANONICAL)
    except TypeError:  # e.g. integers past 64 bits, which orjson refuses
        return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"),
                          default=str).encode()


def dumps(value: Any) -> str:
    return orjson.dumps(value, default=str).decode()
