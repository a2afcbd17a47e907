"""Chinese first, English too: a small catalogue of labels and UI strings by key."""

from __future__ import annotations

from typing import Literal

Lang = Literal["zh", "en"]
LANGS: tuple[Lang, ...] = ("zh", "en")

_catalogue: dict[str, tuple[str, str]] = {}


def register(namespace: str, labels: dict[str, tuple[str, str]]) -> None:
    """Add labels as namespace.key -> (Chinese, English)."""
    for key, pair in labels.items():
        _catalogue[f"{namespace}.{key}"] = pair


def t(key: str, lang: str = "zh") -> str:
    pair = _catalogue.get(key)
    if pair is None:
        return key.rsplit(".", 1)[-1]
    return pair[1] if lang == "en" else pair[0]


def pick_lang(value: str | None) -> Lang:
    return "en" if value and value.lower().startswith("en") else "zh"
