"""The FAQ knowledge base: import standard questions with their answers, and suggest answers.

Entries are matched on their standard question, so an import is idempotent: importing the same
rows twice adds and changes nothing the second time. Rows that share a question pool their
phrasings (the extra ways customers ask it); the first answer and category given win.

Suggestions come from a `FaqIndex` fitted over the stored entries. Fitting takes a moment for
a large knowledge base, so the fitted index is kept per process and refitted only when the
entries change, which the cache notices by (number of entries, highest id, latest update).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bankvoc.core.errors import Invalid
from bankvoc.core.timeutil import utcnow
from bankvoc.nlp import faq
from bankvoc.nlp.faq import FaqIndex, Suggestion
from bankvoc.nlp.faq_models import FaqEntry

MANAGE = "model.manage"
READ = "case.read"
MAX_QUESTION = 500
MAX_CATEGORY = 100
MAX_SOURCE = 64
MAX_K = 20

__all__ = ["FaqRow", "ImportCounts", "Rejection", "Suggestion", "clear_cache", "count",
           "import_entries", "suggest"]


class Actor(Protocol):
    def require(self, permission: str) -> None: ...


@dataclass(frozen=True)
class FaqRow:
    """One row of an import: a standard question with (at least once) its answer.

    Later rows repeating a question may leave the answer empty and only add phrasings.
    `row` is the row's number in its file, for reporting rejections.
    """

    question: str
    answer: str = ""
    category: str = ""
    phrasings: tuple[str, ...] = ()
    row: int = 0
    error: str | None = None  # the reader could not read the row


@dataclass(frozen=True)
class Rejection:
    row: int
    field: str
    reason: str


@dataclass
class ImportCounts:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[Rejection] = field(default_factory=list)


@dataclass
class _Pending:
    row: int
    answer: str
    category: str
    phrasings: list[str]


def import_entries(
    session: Session, *, actor: Actor, rows: Iterable[FaqRow], source: str = "import"
) -> ImportCounts:
    """Add new standard questions and update changed ones; report the rows that are unusable."""
    actor.require(MANAGE)
    counts = ImportCounts()
    pending = _group(rows, counts.rejected)
    if not pending:
        return counts
    existing = {entry.question: entry for entry in session.scalars(
        select(FaqEntry).where(FaqEntry.question.in_(list(pending))))}
    now = utcnow()
    source = source[:MAX_SOURCE]
    for question, item in pending.items():
        category = item.category or None
        entry = existing.get(question)
        if entry is None:
            session.add(FaqEntry(question=question, answer=item.answer, category=category,
                                 phrasings=item.phrasings, source=source, created_at=now,
                                 updated_at=now))
            counts.added += 1
        elif (entry.answer, entry.category, list(entry.phrasings)) == (
                item.answer, category, item.phrasings):
            counts.unchanged += 1
        else:
            entry.answer, entry.category, entry.phrasings = item.answer, category, item.phrasings
            entry.source, entry.updated_at = source, now
            counts.updated += 1
    counts.rejected.sort(key=lambda r: r.row)
    session.flush()
    if counts.added or counts.updated:
        clear_cache()
    return counts


def _group(rows: Iterable[FaqRow], rejected: list[Rejection]) -> dict[str, _Pending]:
    """Rows merged by question, in first-seen order; unusable rows go to `rejected`."""
    pending: dict[str, _Pending] = {}
    for row in rows:
        if row.error is not None:
            rejected.append(Rejection(row.row, "row", row.error))
            continue
        question, answer, category = row.question.strip(), row.answer.strip(), row.category.strip()
        if not question:
            rejected.append(Rejection(row.row, "question", "no standard question"))
            continue
        if len(question) > MAX_QUESTION:
            rejected.append(Rejection(row.row, "question",
                                      f"longer than {MAX_QUESTION} characters"))
            continue
        if len(category) > MAX_CATEGORY:
            rejected.append(Rejection(row.row, "category",
                                      f"longer than {MAX_CATEGORY} characters"))
            continue
        item = pending.setdefault(question, _Pending(row.row, "", "", []))
        if answer and item.answer and answer != item.answer:
            rejected.append(Rejection(row.row, "answer", "a different answer for a question "
                                      f"already answered at row {item.row}"))
            continue
        item.answer = item.answer or answer
        item.category = item.category or category
        for phrasing in row.phrasings:
            text = phrasing.strip()
            if text and text != question and text not in item.phrasings:
                item.phrasings.append(text)
    for question, item in list(pending.items()):
        if not item.answer:
            rejected.append(Rejection(item.row, "answer", "no row gives this question an answer"))
            del pending[question]
    return pending


def suggest(session: Session, *, actor: Actor, text: str, k: int = 5) -> list[Suggestion]:
    """The stored standard questions most likely to answer `text`, best first.

    Entries sharing nothing with the text (score 0) are left out, so an empty list means the
    knowledge base has nothing to offer.
    """
    actor.require(READ)
    if not 1 <= k <= MAX_K:
        raise Invalid(f"k must be between 1 and {MAX_K}", field="k")
    if not text.strip():
        raise Invalid("the text is empty", field="text")
    index = _index(session)
    if index is None:
        return []
    return [s for s in index.suggest(text, k=k) if s.score > 0]


def count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(FaqEntry)) or 0


# -- the per-process cache of fitted indexes ------------------------------------------------

_CacheKey = tuple[str, int, int | None, datetime | None]
_CACHE_SIZE = 4
_cache: OrderedDict[_CacheKey, FaqIndex] = OrderedDict()
_cache_lock = threading.Lock()


def _index(session: Session) -> FaqIndex | None:
    """The fitted index of the stored entries (None when there are none), refitted on change."""
    total, last_id, last_update = session.execute(
        select(func.count(), func.max(FaqEntry.id), func.max(FaqEntry.updated_at))).one()
    if not total:
        return None
    # The database is part of the key: ids and counts repeat across databases.
    url = session.get_bind().engine.url.render_as_string(hide_password=True)
    key: _CacheKey = (url, int(total), last_id, last_update)
    with _cache_lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    entries = [faq.FaqEntry(e.question, e.answer, e.category or "", tuple(e.phrasings))
               for e in session.scalars(select(FaqEntry).order_by(FaqEntry.id))]
    index = FaqIndex().fit(entries)
    with _cache_lock:
        _cache[key] = index
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return index


def clear_cache() -> None:
    with _cache_lock:
        _cache.clear()
