"""Schemathesis over /openapi.json, in-process (ASGI): no request, however odd, gets a 5xx.

Every operation of the spec is called with data that fits its schema (positive) and data that
does not (negative), as an administrator of the whole bank and as nobody. The budget is fixed
and the generation derandomized, so a run is deterministic and stays within about a minute a
backend; set BANKVOC_TEST_HYPOTHESIS=deep for a longer hunt (see tests/conftest.py). What the
first runs found was fixed at its source, each with a regression test in its feature's tests:
ids past PostgreSQL's INTEGER (`core.models.RowId`), hot topics of texts sharing only numbers
or common words (`nlp.topics`).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import suppress
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Err
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from bankvoc.intake import service as intake_service
from bankvoc.intake.schemas import CaseCreate
from tests.conftest import World, auth

# The bulk intake body is NDJSON, declared as one string: send it as the text it is.
schemathesis.serializer.alias("application/x-ndjson", "text/plain")

# What a well-formed request's answer must also be: a status the route declares, of the
# declared content type, with a body its schema describes.
CONFORMANCE = [not_a_server_error, status_code_conformance, content_type_conformance,
               response_schema_conformance]


def _budget(examples: int) -> settings:
    """`examples` per operation and mode, scaled by the profile in force (the default profile's
    max_examples is 25: tests/conftest.py)."""
    default = settings()  # the profile in force
    scale = default.max_examples / 25
    return settings(default, max_examples=max(1, round(examples * scale)),
                    suppress_health_check=list(HealthCheck))


Failures = dict[str, str]


def _run(operation: Any, strategy: Any, budget: settings, key: str, failures: Failures,
         check: Callable[[Any, Any], None]) -> None:
    """Draw cases of `operation` within `budget`; the first failure of each key is kept."""

    @budget
    @given(case=strategy)
    def draw(case: Any) -> None:
        if key in failures:
            return
        try:
            check(case, operation)
        except Exception as exc:  # every failure is reported at the end, with its request
            failures[key] = f"{type(exc).__name__}: {str(exc)[:600]}\n{case.as_curl_command()}"

    with suppress(Unsatisfiable):  # nothing invalid to send (an operation without parameters)
        draw()


def fuzz(client: TestClient, headers: dict[str, str], *, positive: int, negative: int,
         conform: bool, fixed: dict[str, str] | None = None) -> Failures:
    """Call every operation; `fixed` path parameters (e.g. a real case reference) are used
    for the operations that have them, in an extra positive round."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", client.app)
    failures: Failures = {}

    def call(case: Any, _: Any) -> None:
        response = case.call(headers=headers)
        if conform and case.meta.generation.mode == GenerationMode.POSITIVE:
            case.validate_response(response, checks=CONFORMANCE, headers=headers)
        elif response.status_code >= 500:
            raise AssertionError(f"{response.status_code} {response.text[:200]}")

    for result in schema.get_all_operations():
        if isinstance(result, Err):  # an operation the spec cannot describe is a failure too
            failures[result.err().label] = str(result.err())
            continue
        operation = result.ok()
        for mode, examples in ((GenerationMode.POSITIVE, positive),
                               (GenerationMode.NEGATIVE, negative)):
            if examples:
                _run(operation, operation.as_strategy(generation_mode=mode), _budget(examples),
                     f"{operation.label} [{mode.value}]", failures, call)
        own = {name: value for name, value in (fixed or {}).items()
               if "{" + name + "}" in operation.path}
        if own and positive:
            _run(operation, operation.as_strategy(path_parameters=own), _budget(positive),
                 f"{operation.label} [positive, {', '.join(own)} fixed]", failures, call)
    return failures


def _report(failures: Failures) -> str:
    return f"{len(failures)} failing operation(s):\n\n" + "\n\n".join(
        f"{key}: {text}" for key, text in sorted(failures.items()))


class TestTheApiUnderFuzzing:
    def test_an_administrator_gets_no_5xx_and_answers_that_fit_the_spec(
        self, client: TestClient, world: World
    ) -> None:
        draft = intake_service.register_case(
            world.session, actor=world.actor("hq_admin"),
            data=CaseCreate.model_validate({"text": "信用卡年费被多扣了200元，要求退还",
                                            "customer_phone": "13812345678", "org": "BJ"}))
        world.session.commit()  # a savepoint: the app's own sessions see the case
        assert draft.reference is not None
        failures = fuzz(client, auth(world, "hq_admin"), positive=3, negative=2, conform=True,
                        fixed={"reference": draft.reference})
        assert not failures, _report(failures)

    # The gate answers the anonymous before any query: one backend is enough.
    @pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
    def test_the_anonymous_get_no_5xx(self, client: TestClient) -> None:
        failures = fuzz(client, {}, positive=1, negative=1, conform=False)
        assert not failures, _report(failures)
