"""`bankvoc model ...` (train, evaluate, list, activate and roll back trained text models) and
`bankvoc classify` (the whole text pipeline over a file or stdin, as JSON Lines).

Results go to stdout (with --json, the last line is one JSON object); progress and logs go to
stderr. Training reads no database until the model is fitted, so minutes of training never hold
a transaction open.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from itertools import islice
from pathlib import Path
from typing import Annotated, Any

import typer
from sqlalchemy.orm import Session

from bankvoc.core.cliutil import emit_json, handle_errors
from bankvoc.core.db import get_engine, unit_of_work
from bankvoc.core.errors import Invalid
from bankvoc.core.settings import get_settings
from bankvoc.intake.mapping import canonical_field
from bankvoc.intake.readers import open_rows
from bankvoc.nlp import model_store, training
from bankvoc.nlp import service as nlp_service
from bankvoc.nlp.pipeline import TextAnalyzer
from bankvoc.orgs import service as org_service

model_app = typer.Typer(help="Trained text models: train, evaluate, list, activate, roll back.",
                        no_args_is_help=True)

# A confusion matrix wider than this is unreadable in a terminal; --json has it whole.
_MAX_PRINTED_LABELS = 20

DataArg = Annotated[Path, typer.Argument(help="Labelled CSV, TSV, XLSX or JSONL, plain or gzipped")]
TextOpt = Annotated[str, typer.Option("--text", help="Header of the text column")]
LabelOpt = Annotated[str, typer.Option("--label", help="Header of the label column")]
UserOpt = Annotated[str, typer.Option(help="Act as this user")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Last line: one JSON object")]


@dataclass
class Labelled:
    """The usable rows of a labelled file, and how many were skipped (empty text or label)."""

    texts: list[str] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    texts_b: list[str] | None = None
    skipped: int = 0

    def examples(self) -> training.Examples:
        return training.Examples(self.texts, self.labels, self.texts_b)


def read_labelled(path: Path, *, text: str, label: str, text_b: str | None = None) -> Labelled:
    """Texts (and second texts of pairs) and labels from the named columns; rows missing any
    of them (or unreadable) skipped."""
    source = open_rows(path)
    wanted = [(text, "--text"), (label, "--label")] + ([(text_b, "--text-b")] if text_b else [])
    for column, option in wanted:
        if column not in source.headers:
            raise Invalid(f"no column {column!r} in {path.name}; its columns are: "
                          f"{', '.join(source.headers)}", field=option)
    found = Labelled(texts_b=[] if text_b else None)
    for row in source:
        body, tag = _cell(row.values.get(text)), _cell(row.values.get(label))
        other = _cell(row.values.get(text_b)) if text_b else "-"
        if row.error is not None or not body or not tag or not other:
            found.skipped += 1
            continue
        found.texts.append(body)
        found.labels.append(tag)
        if found.texts_b is not None:
            found.texts_b.append(other)
    return found


def _cell(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _actor(session: Session, username: str) -> model_store.Actor:
    return org_service.actor_for(org_service.get_user(session, username=username))


def _say(message: str) -> None:
    typer.echo(message, err=True)


# -- train ------------------------------------------------------------------------------------


@model_app.command("train")
@handle_errors
def train_command(
    data: DataArg,
    text: TextOpt,
    label: LabelOpt,
    name: Annotated[str, typer.Option(help="Model name; each training adds a version")],
    model_field: Annotated[str | None, typer.Option(
        "--field", help="The only field it may be activated for (product, category, sentiment, "
                        "duplicates, ...)")] = None,
    kind: Annotated[str | None, typer.Option(
        help="classifier, sentiment or pairs (default: what --field needs, else classifier)")]
    = None,
    text_b: Annotated[str | None, typer.Option(
        "--text-b", help="pairs: header of the second text column")] = None,
    positive: Annotated[str | None, typer.Option(help="sentiment: the positive label")] = None,
    negative: Annotated[str | None, typer.Option(help="sentiment: the negative label")] = None,
    cv: Annotated[int, typer.Option(
        min=0, max=10, help="Folds to choose the model by (0: fit the first candidate)")] = 3,
    jobs: Annotated[int | None, typer.Option(min=1, max=16, help="Parallel fits")] = None,
    user: UserOpt = "admin",
    as_json: JsonOpt = False,
) -> None:
    """Train a new version of model NAME on a labelled file."""
    kind = kind or (model_store.kind_for_field(model_field) if model_field else "classifier")
    if kind not in training.KINDS:
        raise Invalid(f"kind {kind!r} must be one of {', '.join(training.KINDS)}",
                      field="--kind")
    with unit_of_work(get_engine()) as session:
        _actor(session, user).require(model_store.MANAGE)  # refuse before minutes of work
    found = read_labelled(data, text=text, label=label,
                          text_b=text_b if kind == "pairs" else None)
    if len(set(found.labels)) < 2:
        raise Invalid(f"{data.name} has {len(set(found.labels))} distinct label(s) in column "
                      f"{label!r}; training needs at least two", field="--label")
    _say(f"{len(found.texts)} rows ({found.skipped} skipped), {len(set(found.labels))} labels; "
         f"training a {kind} model")
    started = time.perf_counter()
    try:
        estimator, scores = training.fit(kind, found.examples(), cv=cv, n_jobs=jobs,
                                         positive=positive, negative=negative)
    except ValueError as exc:  # e.g. texts with no word or character to learn from
        raise Invalid(f"cannot train on {data.name}: {exc}", field="--text") from exc
    seconds = round(time.perf_counter() - started, 1)
    with unit_of_work(get_engine()) as session:
        row = model_store.save_version(
            session, actor=_actor(session, user), name=name, estimator=estimator,
            texts=found.examples().hashed_texts(), labels=found.labels, field=model_field,
            metrics={**scores, "train_seconds": seconds},
        )
        summary = {
            "model": f"{row.name}@{row.version}", "name": row.name, "version": row.version,
            "kind": row.kind, "field": row.field, "rows": row.row_count,
            "skipped": found.skipped, "labels": len(row.labels),
            "cv_macro_f1": scores.get("cv_macro_f1"), "cv_accuracy": scores.get("cv_accuracy"),
            "cv_auc": scores.get("cv_auc"), "best": scores.get("best"),
            "data_hash": row.data_hash, "bytes": row.estimator_size, "seconds": seconds,
        }
    if as_json:
        emit_json(summary)
        return
    typer.echo(f"stored {summary['model']} ({kind}): {summary['rows']} rows, "
               f"{summary['labels']} labels, {_cv_text(summary)}, {seconds} s")


def _cv_text(summary: dict[str, Any]) -> str:
    if summary["cv_auc"] is not None:
        return f"cross-validated ROC-AUC {summary['cv_auc']:.4f}"
    if summary["cv_macro_f1"] is not None:
        return (f"cross-validated macro-F1 {summary['cv_macro_f1']:.4f}, accuracy "
                f"{summary['cv_accuracy']:.4f}")
    return "not cross-validated"


# -- eval -------------------------------------------------------------------------------------


@model_app.command("eval")
@handle_errors
def eval_command(
    data: DataArg,
    model: Annotated[str, typer.Option("--model", help="NAME or NAME@VERSION")],
    text: TextOpt,
    label: LabelOpt,
    text_b: Annotated[str | None, typer.Option(
        "--text-b", help="pair models: header of the second text column")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Score a stored model on a labelled file: accuracy, macro-F1, per class, confusion."""
    name, version = model_store.split_ref(model)
    with unit_of_work(get_engine()) as session:
        row = model_store.get_version(session, name=name, version=version)
        ref, kind = f"{row.name}@{row.version}", row.kind
        estimator = model_store.load(session, name=row.name, version=row.version)
    if kind == "pairs" and not text_b:
        raise Invalid(f"{ref} scores pairs: name the second text column with --text-b",
                      field="--text-b")
    found = read_labelled(data, text=text, label=label,
                          text_b=text_b if kind == "pairs" else None)
    if not found.texts:
        raise Invalid(f"{data.name} has no row with both a text and a label", field="FILE")
    report = {"model": ref, "kind": kind, "skipped": found.skipped,
              **training.score(estimator, found.examples())}
    if as_json:
        emit_json(report)
        return
    _print_report(report)


def _print_report(report: dict[str, Any]) -> None:
    typer.echo(f"{report['model']} on {report['rows']} rows ({report['skipped']} skipped): "
               f"accuracy {report['accuracy']:.4f}, macro-F1 {report['macro_f1']:.4f}, "
               f"{report['docs_per_s']:,.0f} docs/s")
    if report.get("auc") is not None:
        typer.echo(f"ROC-AUC {report['auc']:.4f}; at the merge threshold {report['threshold']}: "
                   f"precision {report['precision']:.4f}, recall {report['recall']:.4f}")
    if report["unknown_labels"]:
        typer.echo(f"labels the model does not know: {', '.join(report['unknown_labels'])}")
    width = max(len(label) for label in report["per_class"])
    typer.echo(f"{'label':<{width}}  precision  recall      f1  support")
    for label, scores in report["per_class"].items():
        typer.echo(f"{label:<{width}}  {scores['precision']:9.4f}  {scores['recall']:6.4f}  "
                   f"{scores['f1']:6.4f}  {scores['support']:7d}")
    labels, matrix = report["confusion"]["labels"], report["confusion"]["matrix"]
    if len(labels) > _MAX_PRINTED_LABELS:
        typer.echo(f"confusion matrix: {len(labels)} labels, too wide to print (see --json)")
        return
    typer.echo("confusion matrix (rows: true label, columns: predicted, in the order above):")
    cell = max(len(str(n)) for counts in matrix for n in counts) + 1
    for label, counts in zip(labels, matrix, strict=True):
        typer.echo(f"{label:<{width}} " + "".join(f"{n:>{cell}}" for n in counts))


# -- list, activate, rollback -----------------------------------------------------------------


@model_app.command("list")
@handle_errors
def list_command(
    name: Annotated[str | None, typer.Option(help="Only versions of this model")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Stored model versions, newest first, with the fields they are active for."""
    with unit_of_work(get_engine()) as session:
        versions = model_store.list_versions(session, name=name)
    if as_json:
        emit_json({"models": [{"model": v.ref, **asdict(v)} for v in versions]})
        return
    if not versions:
        typer.echo("no models stored yet (bankvoc model train ...)")
        return
    for v in versions:
        score = v.metrics.get("cv_macro_f1")
        active = ", ".join(v.active_for) or "-"
        typer.echo(
            f"{v.ref:<24} {v.kind:<10} field {v.field or '-':<10} active for {active:<12}"
            f" {v.row_count:>7} rows {len(v.labels):>4} labels  cv macro-F1 "
            f"{'-' if score is None else f'{score:.4f}'}  {v.created_at:%Y-%m-%d %H:%M}Z "
            f"by {v.created_by or '-'}"
        )


@model_app.command("activate")
@handle_errors
def activate_command(
    model: Annotated[str, typer.Argument(help="NAME@VERSION (or NAME: its latest version)")],
    model_field: Annotated[str, typer.Option("--field", help="product, category, ...")],
    user: UserOpt = "admin",
    as_json: JsonOpt = False,
) -> None:
    """Make a model version the one used for a field."""
    name, version = model_store.split_ref(model)
    with unit_of_work(get_engine()) as session:
        activation = model_store.activate(session, actor=_actor(session, user), name=name,
                                          version=version, field=model_field)
        result = _activation_result(session, activation)
    _print_activation(result, as_json)


@model_app.command("rollback")
@handle_errors
def rollback_command(
    model_field: Annotated[str, typer.Option("--field", help="product, category, ...")],
    user: UserOpt = "admin",
    as_json: JsonOpt = False,
) -> None:
    """Go back to the model version that the active one replaced for a field."""
    with unit_of_work(get_engine()) as session:
        activation = model_store.rollback(session, actor=_actor(session, user), field=model_field)
        result = _activation_result(session, activation)
    _print_activation(result, as_json)


def _activation_result(session: Session, activation: Any) -> dict[str, Any]:
    return {"field": activation.field, "action": activation.action,
            "model": model_store.ref_of(session, version_id=activation.model_version_id)}


def _print_activation(result: dict[str, Any], as_json: bool) -> None:
    if as_json:
        emit_json(result)
    elif result["action"] == "rollback":
        typer.echo(f"{result['field']}: rolled back to {result['model']}")
    else:
        typer.echo(f"{result['field']}: {result['model']} is active")


@handle_errors
def classify_command(
    source: Annotated[str, typer.Argument(help="CSV/TSV/XLSX/JSONL file, or - for one text per "
                                               "line on stdin")],
    text: Annotated[str | None, typer.Option("--text", help="Column holding the text")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON Lines: one object per input")]
    = False,
    batch_size: Annotated[int, typer.Option(min=1, max=100_000)] = 2_000,
) -> None:
    """Run the whole text pipeline (classify, grade, sentiment, PII) over many texts."""
    get_settings().check_safe()
    with unit_of_work(get_engine()) as session:
        analyzer = TextAnalyzer(models=nlp_service.active_models(session))
    texts = _stdin_texts() if source == "-" else _file_texts(Path(source), text)
    done = 0
    while chunk := list(islice(texts, batch_size)):
        for result in analyzer.analyze_many(chunk):
            payload = result.as_dict()
            if as_json:
                sys.stdout.write(json.dumps(payload, ensure_ascii=False) + "\n")
            else:
                sys.stdout.write(_human(payload) + "\n")
        done += len(chunk)
        typer.echo(f"{done} texts", err=True)
    sys.stdout.flush()


def _stdin_texts() -> Iterator[str]:
    for line in sys.stdin:
        yield line.rstrip("\r\n")


def _file_texts(path: Path, column: str | None) -> Iterator[str]:
    rows = open_rows(path)
    if column is None:
        column = _text_column(rows.headers)
    if column not in rows.headers:
        raise Invalid(f"no column {column!r}; the file has {', '.join(rows.headers)}",
                      field="--text")
    for row in rows:
        value = row.values.get(column)
        yield "" if value is None else str(value)


def _text_column(headers: list[str]) -> str:
    for header in headers:
        if canonical_field(header) == "text":
            return header
    raise Invalid("name the text column with --text; the file has " + ", ".join(headers),
                  field="--text")


def _human(payload: dict[str, object]) -> str:
    return (f"{payload['product']}/{payload['category']}  {payload['severity']}  "
            f"sentiment {payload['sentiment']:+.2f}  {payload['masked_text']}")
