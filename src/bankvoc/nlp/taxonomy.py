"""The versioned taxonomy file: products and natures of complaint with their lexicons."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from pathlib import Path

import yaml
from pydantic import BaseModel, Field, ValidationError, field_validator

from bankvoc.core.errors import Invalid


class TaxonomyError(Invalid):
    code = "taxonomy_invalid"


class Term(BaseModel):
    code: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    zh: str
    en: str
    keywords: list[str] = []
    jrt_business: str | None = None
    jrt_cause: str | None = None

    @field_validator("keywords")
    @classmethod
    def _no_blank_keywords(cls, value: list[str]) -> list[str]:
        if any(not str(k).strip() for k in value):
            raise ValueError("keywords must not be blank")
        return [str(k).strip() for k in value]

    def label(self, lang: str) -> str:
        return self.en if lang == "en" else self.zh


class Taxonomy(BaseModel):
    version: str
    products: list[Term] = Field(min_length=1)
    categories: list[Term] = Field(min_length=1)

    def product(self, code: str) -> Term | None:
        return next((t for t in self.products if t.code == code), None)

    def category(self, code: str) -> Term | None:
        return next((t for t in self.categories if t.code == code), None)

    def find(self, dimension: str, raw: str) -> Term | None:
        """A term by its code, Chinese or English name (what a bank file may hold)."""
        wanted = raw.strip().lower()
        terms = self.products if dimension == "product" else self.categories
        return next((t for t in terms if wanted in (t.code, t.zh.lower(), t.en.lower())), None)


DEFAULT_PATH = "taxonomy.yaml"


def parse_taxonomy(text: str, *, source: str = DEFAULT_PATH) -> Taxonomy:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        raise TaxonomyError(f"{source}{where}: not valid YAML ({exc})", field="taxonomy") from None
    try:
        taxonomy = Taxonomy.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        path = ".".join(str(p) for p in first["loc"])
        raise TaxonomyError(f"{source}: {path}: {first['msg']}", field="taxonomy") from None
    for dimension in (taxonomy.products, taxonomy.categories):
        codes = [t.code for t in dimension]
        dupes = sorted({c for c in codes if codes.count(c) > 1})
        if dupes:
            raise TaxonomyError(f"{source}: duplicate code(s) {', '.join(dupes)}",
                                field="taxonomy")
        if "other" not in codes:
            raise TaxonomyError(f"{source}: every dimension needs an 'other' term",
                                field="taxonomy")
    return taxonomy


@lru_cache(maxsize=8)
def load_taxonomy(path: Path | None = None) -> Taxonomy:
    if path is None:
        text = resources.files("bankvoc.nlp").joinpath(DEFAULT_PATH).read_text("utf-8")
        return parse_taxonomy(text)
    return parse_taxonomy(path.read_text("utf-8"), source=str(path))
