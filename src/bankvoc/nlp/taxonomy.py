"""The versioned taxonomy file: what a bank can edit without code.

It holds the kinds of contact, the channels, the products and the natures of complaint (with
their Chinese and English names and keyword lexicons), the three dimensions of the industry
complaint classification standard JR/T 0169-2018 (channel, business type, cause) and the
business groups of the regulator's quarterly bulletin, and maps the bank's terms onto both.

A bad file is refused with the line and the reason of each problem (see `bankvoc.core.yamlfile`,
which reads every bank-edited YAML file that way).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from bankvoc.core import configstore
from bankvoc.core.settings import get_settings
from bankvoc.core.yamlfile import (
    REASONS,
    Loc,
    Problem,
    YamlFileError,
    loc_path,
    parse_yaml,
    read_yaml,
)

DEFAULT_PATH = "taxonomy.yaml"
KIND = "taxonomy"  # its kind of versioned configuration (bankvoc.core.configstore)
OTHER = "other"

_REASONS = {
    **REASONS,
    "string_pattern_mismatch": "{input!r} is not a valid code: use lower_snake_case, e.g. "
                               "credit_card",
}


class TaxonomyError(YamlFileError):
    """A taxonomy file refused; `problems` holds every problem found, in the file's order."""

    code = "taxonomy_invalid"
    default_field = "taxonomy"


class _Model(BaseModel):
    # A misspelt field is an error, not silently ignored; the loaded taxonomy is shared, so it
    # cannot be changed in place.
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Entry(_Model):
    """An entry of a code list: its code and its Chinese and English names."""

    code: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)

    def label(self, lang: str) -> str:
        return self.en if lang == "en" else self.zh


class Term(Entry):
    """A kind, product or nature of complaint: an entry with the keywords that suggest it.

    Products name their JR/T business type and bulletin group, natures their JR/T cause; which
    list needs which reference is checked by `Taxonomy` (see `Taxonomy.REFERENCES`).
    """

    keywords: list[str] = []
    jrt_business: str | None = None
    jrt_cause: str | None = None
    bulletin: str | None = None

    @field_validator("keywords")
    @classmethod
    def _no_blank_keywords(cls, value: list[str]) -> list[str]:
        if any(not k.strip() for k in value):
            raise ValueError("keywords must not be blank")
        return [k.strip() for k in value]


class ChannelEntry(Entry):
    """A channel a contact arrives through, and the JR/T channel it is reported under."""

    jrt_channel: str


class Standard(_Model):
    """The code lists of JR/T 0169-2018's three dimensions."""

    id: str = Field(min_length=1)
    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)
    channel: list[Entry] = Field(min_length=1)
    business: list[Entry] = Field(min_length=1)
    cause: list[Entry] = Field(min_length=1)

    def entry(self, dimension: str, code: str) -> Entry | None:
        """An entry of the channel, business or cause dimension by its code."""
        if dimension not in ("channel", "business", "cause"):
            raise ValueError(f"JR/T 0169-2018 has no dimension {dimension!r}")
        entries: list[Entry] = getattr(self, dimension)
        return next((e for e in entries if e.code == code), None)


@dataclass(frozen=True)
class JrtCodes:
    """A case's codes in the three dimensions of JR/T 0169-2018."""

    channel: str
    business: str
    cause: str


@dataclass(frozen=True)
class Reference:
    """A field of a list's entries that names a code of another list."""

    in_list: str
    field: str
    target: Loc
    what: str


class Taxonomy(_Model):
    version: str = Field(min_length=1)
    standard: Standard
    bulletin_categories: list[Entry] = Field(min_length=1)
    kinds: list[Term] = Field(min_length=1)
    channels: list[ChannelEntry] = Field(min_length=1)
    products: list[Term] = Field(min_length=1)
    categories: list[Term] = Field(min_length=1)

    # The lists of coded entries: codes are unique in each.
    CODE_LISTS: ClassVar[tuple[Loc, ...]] = (
        ("standard", "channel"), ("standard", "business"), ("standard", "cause"),
        ("bulletin_categories",), ("kinds",), ("channels",), ("products",), ("categories",))
    # Every list but the kinds (the application's fixed set) needs an `other` fallback.
    WITHOUT_OTHER: ClassVar[frozenset[Loc]] = frozenset({("kinds",)})
    REFERENCES: ClassVar[tuple[Reference, ...]] = (
        Reference("channels", "jrt_channel", ("standard", "channel"), "JR/T 0169-2018 channel"),
        Reference("products", "jrt_business", ("standard", "business"),
                  "JR/T 0169-2018 business type"),
        Reference("products", "bulletin", ("bulletin_categories",), "bulletin category"),
        Reference("categories", "jrt_cause", ("standard", "cause"), "JR/T 0169-2018 cause"),
    )
    # The reference fields a Term may carry; each list allows only its own (REFERENCES).
    TERM_REFERENCES: ClassVar[tuple[str, ...]] = ("jrt_business", "jrt_cause", "bulletin")
    TERM_LISTS: ClassVar[tuple[str, ...]] = ("kinds", "products", "categories")

    @model_validator(mode="after")
    def _consistent(self) -> Taxonomy:
        # Not a ValueError: pydantic lets it through with its locations, which parse_taxonomy
        # turns into lines (validated directly, the problems come without them).
        problems = list(self._problems())
        if problems:
            raise TaxonomyError.of(problems, source=DEFAULT_PATH)
        return self

    def _entries(self, loc: Loc) -> list[Entry]:
        found: Any = self
        for step in loc:
            found = getattr(found, str(step))
        return list(found)

    def _problems(self) -> Iterator[Problem]:
        for loc in self.CODE_LISTS:
            entries = self._entries(loc)
            first: dict[str, int] = {}
            for i, entry in enumerate(entries):
                if entry.code in first:
                    yield Problem((*loc, i, "code"), f"duplicate code {entry.code!r} (first in "
                                                     f"{loc_path((*loc, first[entry.code]))})")
                first.setdefault(entry.code, i)
            if loc not in self.WITHOUT_OTHER and OTHER not in first:
                yield Problem(loc, f"needs an entry with code {OTHER!r}, the fallback when "
                                   "nothing else fits")
        for name in self.TERM_LISTS:
            allowed = {r.field for r in self.REFERENCES if r.in_list == name}
            for i, term in enumerate(self._entries((name,))):
                for field in self.TERM_REFERENCES:
                    if field not in allowed and getattr(term, field) is not None:
                        yield Problem((name, i, field), f"is not a field of {name} (allowed: "
                                                        f"{', '.join(sorted(allowed)) or 'none'})")
        for ref in self.REFERENCES:
            known = [e.code for e in self._entries(ref.target)]
            for i, entry in enumerate(self._entries((ref.in_list,))):
                value = getattr(entry, ref.field)
                if value is None:
                    yield Problem((ref.in_list, i, ref.field),
                                  f"is required but missing: name a {ref.what}")
                elif value not in known:
                    yield Problem((ref.in_list, i, ref.field),
                                  f"{value!r} is not a {ref.what} (known: {', '.join(known)})")

    # --- lookups ---------------------------------------------------------------------------------

    def product(self, code: str) -> Term | None:
        return next((t for t in self.products if t.code == code), None)

    def category(self, code: str) -> Term | None:
        return next((t for t in self.categories if t.code == code), None)

    def kind(self, code: str) -> Term | None:
        return next((t for t in self.kinds if t.code == code), None)

    def channel(self, code: str) -> ChannelEntry | None:
        return next((c for c in self.channels if c.code == code), None)

    def find(self, dimension: str, raw: str) -> Entry | None:
        """An entry by its code, Chinese or English name (what a bank file may hold).

        `dimension` is product, category, kind or channel.
        """
        lists: dict[str, Sequence[Entry]] = {"product": self.products,
                                             "category": self.categories,
                                             "kind": self.kinds, "channel": self.channels}
        if dimension not in lists:
            raise ValueError(f"the taxonomy has no dimension {dimension!r}")
        wanted = raw.strip().lower()
        return next((t for t in lists[dimension]
                     if wanted in (t.code, t.zh.lower(), t.en.lower())), None)

    def jrt_codes(self, *, product: str | None = None, category: str | None = None,
                  channel: str | None = None) -> JrtCodes:
        """The JR/T 0169-2018 codes of a case with this product, nature and channel.

        A value that is missing or not in the taxonomy counts as `other`. The channel is where
        the contact arrived, which stands for where the business was done (the standard's
        channel) until a handler records otherwise.
        """
        found_product = self.product(product) if product else None
        found_category = self.category(category) if category else None
        found_channel = self.channel(channel) if channel else None
        return JrtCodes(
            channel=found_channel.jrt_channel if found_channel else OTHER,
            business=(found_product.jrt_business or OTHER) if found_product else OTHER,
            cause=(found_category.jrt_cause or OTHER) if found_category else OTHER)

    def bulletin_category(self, product: str | None) -> Entry:
        """The regulator's bulletin group of a product (`other` when unknown or missing)."""
        found = self.product(product) if product else None
        code = (found.bulletin or OTHER) if found else OTHER
        # Validation made sure both the product's group and `other` exist.
        return next(e for e in self.bulletin_categories if e.code == code)

    def counts(self) -> dict[str, int]:
        """How many entries each list holds."""
        return {".".join(str(p) for p in loc): len(self._entries(loc)) for loc in self.CODE_LISTS}


# --- reading a file ------------------------------------------------------------------------------

def parse_taxonomy(text: str, *, source: str = DEFAULT_PATH) -> Taxonomy:
    """The taxonomy in `text`, or a TaxonomyError naming the line and reason of each problem."""
    return parse_yaml(text, Taxonomy, source=source, error=TaxonomyError, reasons=_REASONS)


def read_taxonomy(path: Path) -> Taxonomy:
    """The taxonomy in a file (UTF-8), or a TaxonomyError naming its problems' lines."""
    return read_yaml(path, Taxonomy, error=TaxonomyError, reasons=_REASONS)


def load_taxonomy(path: Path | None = None, *,
                  snapshot: configstore.Snapshot | None = None) -> Taxonomy:
    """The taxonomy in `path`, else the version activated on the admin screens (in
    `snapshot`, else in force in this process), else the bank's own file
    (BANKVOC_TAXONOMY_FILE), else the shipped one; each parsed once per process."""
    if path is None:
        active = configstore.parsed(KIND, _parse_version, snapshot=snapshot)
        if active is not None:
            return active
    return _load(path or get_settings().taxonomy_file)


def _parse_version(text: str, source: str) -> Taxonomy:
    return parse_taxonomy(text, source=source)


@lru_cache(maxsize=8)
def _load(path: Path | None) -> Taxonomy:
    if path is None:
        text = resources.files("bankvoc.nlp").joinpath(DEFAULT_PATH).read_text("utf-8")
        return parse_taxonomy(text)
    return read_taxonomy(path)
