"""The model store: trained text models as numbered versions, activated per field.

A version keeps its labels, metrics, the hash of its training data, who made it and when, and
the fitted estimator itself (joblib bytes with their SHA-256, checked before unpickling). A
field (product, category, ...) has at most one active version; activations are kept as
history, and a rollback goes back to the version the current one replaced.

The acting user is anything with a `user_id` and `require(permission)` (orgs' `Actor`): text
understanding does not import orgs, so it states what it needs as a protocol.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import threading
import unicodedata
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, TypeAlias

import joblib
from sqlalchemy import Integer, String, column, func, select, table
from sqlalchemy.orm import Session

from bankvoc.core.errors import Conflict, Invalid, NotFound
from bankvoc.nlp.models import ModelActivation, ModelVersion
from bankvoc.nlp.sentiment import TrainedSentiment
from bankvoc.nlp.similarity import DuplicateMatcher

if TYPE_CHECKING:
    from bankvoc.nlp.classifier import TextClassifier

MANAGE = "model.manage"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")
_FIELD = re.compile(r"[a-z][a-z0-9_]{0,49}")
# Users by id, for names in listings, without importing orgs' models.
_user_id, _username = column("id", Integer), column("username", String)
_users = table("app_user", _user_id, _username)


Estimator: TypeAlias = "TextClassifier | TrainedSentiment | DuplicateMatcher"

# The fields a kind of model serves: a sentiment scorer can only be the sentiment model, a pair
# matcher only the duplicates one; classifiers serve every other field.
SPECIAL_FIELDS = {"sentiment": "sentiment", "duplicates": "pairs"}


def model_class(kind: str) -> type[Any]:
    """What each kind of model is. The classifier's module imports scikit-learn: only a process
    that stores or loads a classifier does (not every one that registers cases)."""
    if kind == "classifier":
        from bankvoc.nlp.classifier import TextClassifier

        return TextClassifier
    return {"sentiment": TrainedSentiment, "pairs": DuplicateMatcher}[kind]


def kind_of(estimator: Estimator) -> str:
    for kind in ("sentiment", "pairs", "classifier"):  # the classifier last: see model_class
        cls = model_class(kind)
        if isinstance(estimator, cls):
            return kind
    raise TypeError(f"{type(estimator).__name__} is not a model the store keeps")


def kind_for_field(field: str) -> str:
    return SPECIAL_FIELDS.get(field, "classifier")


class Actor(Protocol):
    @property
    def user_id(self) -> int: ...

    def require(self, permission: str) -> None: ...


class ModelChecksumError(Conflict):
    """The stored bytes are not the bytes that were saved: refuse to unpickle them."""

    code = "model_checksum"


@dataclass(frozen=True)
class VersionSummary:
    """A version as listings show it (no estimator bytes)."""

    name: str
    version: int
    kind: str
    field: str | None
    labels: list[str]
    metrics: dict[str, Any]
    data_hash: str
    row_count: int
    estimator_size: int
    created_at: datetime
    created_by: str | None
    active_for: list[str]

    @property
    def ref(self) -> str:
        return f"{self.name}@{self.version}"


# -- saving -------------------------------------------------------------------------------------


def training_hash(texts: Iterable[str], labels: Iterable[str]) -> str:
    """SHA-256 of the (text, label) pairs, normalised and sorted: row order, Unicode forms and
    runs of white space do not change it; any change of a text or a label does."""
    pairs = sorted(
        json.dumps([_normal(text), _normal(label)], ensure_ascii=False)
        for text, label in zip(texts, labels, strict=True)
    )
    digest = hashlib.sha256()
    for pair in pairs:
        digest.update(pair.encode())
        digest.update(b"\n")
    return digest.hexdigest()


def _normal(value: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", str(value)).split())


def serialise(estimator: Estimator) -> bytes:
    buffer = io.BytesIO()
    joblib.dump(estimator, buffer, compress=3)
    return buffer.getvalue()


def save_version(
    session: Session,
    *,
    actor: Actor,
    name: str,
    estimator: Estimator,
    texts: Sequence[str],
    labels: Sequence[str],
    field: str | None = None,
    metrics: dict[str, Any] | None = None,
) -> ModelVersion:
    """Store a fitted estimator as the next version of model `name`.

    `texts` and `labels` are what it learned from (for a pair matcher, each text is the pair
    joined by a tab); only their hash and count are kept."""
    actor.require(MANAGE)
    _check_name(name)
    kind = kind_of(estimator)
    if field is not None:
        _check_field(field)
        _check_kind_serves(kind, field, f"a {kind} model")
    blob = serialise(estimator)
    classes = getattr(estimator, "classes_", None)
    known = sorted({str(label) for label in labels}) if classes is None else classes
    latest = session.scalar(select(func.max(ModelVersion.version)).where(ModelVersion.name == name))
    row = ModelVersion(
        name=name, version=(latest or 0) + 1, kind=kind, field=field,
        labels=[str(label) for label in known],
        # Through JSON once: tuples become lists and anything odd a string, as stored.
        metrics=json.loads(json.dumps(metrics or {}, default=str)),
        data_hash=training_hash(texts, labels), row_count=len(texts),
        estimator=blob, estimator_sha256=hashlib.sha256(blob).hexdigest(),
        estimator_size=len(blob), created_by=actor.user_id,
    )
    session.add(row)
    session.flush()
    return row


def _check_name(name: str) -> None:
    if not _NAME.fullmatch(name):
        raise Invalid(f"model name {name!r} must be 1-100 letters, digits, '_', '.' or '-'",
                      field="name")


def _check_field(field: str) -> None:
    if not _FIELD.fullmatch(field):
        raise Invalid(f"field {field!r} must be a lower-case code such as product or category",
                      field="field")


def _check_kind_serves(kind: str, field: str, what: str) -> None:
    wanted = kind_for_field(field)
    if kind != wanted:
        raise Invalid(f"{what} cannot serve field {field!r}, which needs a {wanted} model",
                      field="field")


# -- finding and loading ------------------------------------------------------------------------


def split_ref(ref: str) -> tuple[str, int | None]:
    """`NAME@VERSION` (or a bare `NAME`: the latest version) into its parts."""
    name, at, version = ref.partition("@")
    if not at:
        return name, None
    if not version.isdigit() or int(version) < 1:
        raise Invalid(f"{ref!r}: the version after '@' must be a number from 1", field="model")
    return name, int(version)


def get_version(session: Session, *, name: str, version: int | None = None) -> ModelVersion:
    """A version of model `name`; the latest when `version` is None."""
    query = select(ModelVersion).where(ModelVersion.name == name)
    if version is None:
        row = session.scalar(query.order_by(ModelVersion.version.desc()).limit(1))
    else:
        row = session.scalar(query.where(ModelVersion.version == version))
    if row is None:
        what = f"{name}@{version}" if version is not None else name
        raise NotFound(f"no model {what}", field="model")
    return row


def ref_of(session: Session, *, version_id: int) -> str:
    """`NAME@VERSION` of a stored version."""
    row = session.get_one(ModelVersion, version_id)
    return f"{row.name}@{row.version}"


def load(session: Session, *, name: str, version: int | None = None) -> Estimator:
    """The fitted estimator of a version, its bytes checked against their SHA-256 first."""
    row = get_version(session, name=name, version=version)
    return _cached(session, row.id, row.estimator_sha256, f"{row.name}@{row.version}", row.kind)


def list_versions(session: Session, *, name: str | None = None) -> list[VersionSummary]:
    """Every version (of one model, or of all), newest first, with the fields it is active for."""
    active: dict[int, list[str]] = {}
    for version_id, field in session.execute(
        select(ModelActivation.model_version_id, ModelActivation.field)
        .where(ModelActivation.active).order_by(ModelActivation.field)
    ):
        active.setdefault(version_id, []).append(field)
    query = (
        select(ModelVersion, _username)
        .outerjoin(_users, _user_id == ModelVersion.created_by)
        .order_by(ModelVersion.name, ModelVersion.version.desc())
    )
    if name is not None:
        query = query.where(ModelVersion.name == name)
    return [_summary(row, username, active.get(row.id, []))
            for row, username in session.execute(query)]


def _summary(row: ModelVersion, username: str | None, active_for: list[str]) -> VersionSummary:
    return VersionSummary(
        name=row.name, version=row.version, kind=row.kind, field=row.field,
        labels=list(row.labels),
        metrics=dict(row.metrics), data_hash=row.data_hash, row_count=row.row_count,
        estimator_size=row.estimator_size, created_at=row.created_at, created_by=username,
        active_for=active_for,
    )


# -- activation ---------------------------------------------------------------------------------


def activate(
    session: Session, *, actor: Actor, name: str, version: int | None, field: str
) -> ModelActivation:
    """Make a version the active model for `field` (the latest version when None)."""
    actor.require(MANAGE)
    _check_field(field)
    row = get_version(session, name=name, version=version)
    if row.field is not None and row.field != field:
        raise Invalid(f"model {row.name}@{row.version} was trained for field {row.field!r}, "
                      f"not {field!r}", field="field")
    _check_kind_serves(row.kind, field, f"model {row.name}@{row.version} ({row.kind})")
    current = _active(session, field)
    if current is not None and current.model_version_id == row.id:
        return current  # already active: activating again changes nothing
    return _switch(session, actor, field, row.id, current, previous=current, action="activate")


def rollback(session: Session, *, actor: Actor, field: str) -> ModelActivation:
    """Re-activate the version that the active one replaced for `field`."""
    actor.require(MANAGE)
    current = _active(session, field)
    if current is None:
        raise NotFound(f"no model is active for field {field!r}", field="field")
    if current.previous_id is None:
        raise Conflict(f"nothing to roll back to: the model active for {field!r} replaced none",
                       field="field")
    target = session.get_one(ModelActivation, current.previous_id)
    # The new row continues from the target's own predecessor: a second rollback goes further
    # back, as undo does, instead of flipping between two versions.
    previous = session.get(ModelActivation, target.previous_id) if target.previous_id else None
    return _switch(session, actor, field, target.model_version_id, current, previous=previous,
                   action="rollback")


def _switch(
    session: Session,
    actor: Actor,
    field: str,
    version_id: int,
    current: ModelActivation | None,
    *,
    previous: ModelActivation | None,
    action: str,
) -> ModelActivation:
    if current is not None:
        current.active = False
        session.flush()  # before the insert: one active row per field is a unique index
    row = ModelActivation(field=field, model_version_id=version_id, action=action, active=True,
                          previous_id=previous.id if previous else None,
                          activated_by=actor.user_id)
    session.add(row)
    session.flush()
    return row


def _active(session: Session, field: str) -> ModelActivation | None:
    return session.scalar(
        select(ModelActivation).where(ModelActivation.field == field, ModelActivation.active)
    )


def active_version(session: Session, *, field: str) -> ModelVersion | None:
    return session.scalar(
        select(ModelVersion)
        .join(ModelActivation, ModelActivation.model_version_id == ModelVersion.id)
        .where(ModelActivation.field == field, ModelActivation.active)
    )


def active_for(session: Session, *, field: str) -> Estimator | None:
    """The estimator active for `field`, or None; loaded once per process and version."""
    return active_models(session, fields=[field]).get(field)


def active_models(session: Session, *, fields: Iterable[str] | None = None) -> dict[str, Any]:
    """The estimator active for each field (of `fields`, or every field with one)."""
    return {field: estimator for field, (_, estimator)
            in active_with_refs(session, fields=fields).items()}


def active_with_refs(session: Session, *,
                     fields: Iterable[str] | None = None) -> dict[str, tuple[str, Any]]:
    """`NAME@VERSION` and estimator of the model active for each field, in one query; each
    estimator is unpickled once per process and version."""
    query = (
        select(ModelActivation.field, ModelVersion.id, ModelVersion.estimator_sha256,
               ModelVersion.name, ModelVersion.version, ModelVersion.kind)
        .join(ModelActivation, ModelActivation.model_version_id == ModelVersion.id)
        .where(ModelActivation.active)
    )
    if fields is not None:
        query = query.where(ModelActivation.field.in_(list(fields)))
    found: dict[str, tuple[str, Any]] = {}
    for field, version_id, sha256, name, version, kind in session.execute(query):
        ref = f"{name}@{version}"
        found[field] = (ref, _cached(session, version_id, sha256, ref, kind))
    return found


def history(session: Session, *, field: str) -> list[ModelActivation]:
    """Every activation for `field`, oldest first."""
    return list(session.scalars(
        select(ModelActivation).where(ModelActivation.field == field).order_by(ModelActivation.id)
    ))


# -- the per-process cache ------------------------------------------------------------------------

# Keyed by the bytes' SHA-256, not the row id: ids repeat across databases (tests, a restore),
# content does not. A few models only: each can be tens of megabytes in memory.
_CACHE_SIZE = 8
_cache: OrderedDict[str, Estimator] = OrderedDict()
_cache_lock = threading.Lock()


def _cached(session: Session, version_id: int, sha256: str, ref: str, kind: str) -> Estimator:
    with _cache_lock:
        if sha256 in _cache:
            _cache.move_to_end(sha256)
            return _cache[sha256]
    blob = session.scalar(select(ModelVersion.estimator).where(ModelVersion.id == version_id))
    estimator = _unpickle(blob or b"", sha256, ref, kind)
    with _cache_lock:
        _cache[sha256] = estimator
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return estimator


def _unpickle(blob: bytes, sha256: str, ref: str, kind: str) -> Estimator:
    if hashlib.sha256(blob).hexdigest() != sha256:
        raise ModelChecksumError(f"model {ref} does not match its checksum: the stored bytes "
                                 "were altered or damaged, so they are not loaded", field="model")
    estimator = joblib.load(io.BytesIO(blob))
    if not isinstance(estimator, model_class(kind)):
        raise ModelChecksumError(f"model {ref} is not a {kind} model", field="model")
    result: Estimator = estimator
    return result


def clear_cache() -> None:
    with _cache_lock:
        _cache.clear()
