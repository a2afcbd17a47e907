"""Properties of the intake pipeline's database-free stages over generated records.

Whatever the text and fields, a record is understood or rejected naming a field, never a crash;
the severity is one of the four grades; a generated mobile number or ID number written into the
text never survives into the masked text; the same record always gives the same result. The
budget is the hypothesis profile's (tests/conftest.py).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from bankvoc.cases.enums import Severity
from bankvoc.intake import stages
from bankvoc.intake.draft import Draft, Outcome, new_draft
from bankvoc.nlp.pii import _PROVINCES, id_number_ok
from tests.intake.test_stages import context

SEVERITIES = {s.value for s in Severity}
CTX = context()

any_text = st.text(max_size=300)
chinese = st.text(st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5), min_size=1,
                  max_size=40)
mobiles = st.builds(lambda second, rest: f"1{second}{rest:09d}", st.sampled_from("3456789"),
                    st.integers(0, 10**9 - 1))


def _id_number(province: str, area: int, birth: int, seq: int) -> str:
    day = dt.date(1950, 1, 1) + dt.timedelta(days=birth)
    body = f"{province}{area:04d}{day:%Y%m%d}{seq:03d}"
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    check = "10X98765432"[sum(int(d) * w for d, w in zip(body, weights, strict=True)) % 11]
    return body + check


id_numbers = st.builds(_id_number, st.sampled_from(sorted(_PROVINCES)), st.integers(0, 9999),
                       st.integers(0, 20000), st.integers(0, 999))
fields = st.fixed_dictionaries({}, optional={
    "channel": st.one_of(st.sampled_from(["hotline", "branch", "mobile_app", "email"]),
                         st.text(max_size=12)),
    "kind": st.one_of(st.sampled_from(["complaint", "suggestion", "praise"]),
                      st.text(max_size=12)),
    "severity": st.one_of(st.sampled_from(sorted(SEVERITIES)), st.text(max_size=8)),
    "amount": st.one_of(st.decimals(allow_nan=True, allow_infinity=True), st.text(max_size=12),
                        st.integers()),
    "received_at": st.one_of(st.text(max_size=25), st.datetimes().map(str)),
    "org": st.one_of(st.sampled_from(["BJ", "SH", "HQ", "总行"]), st.text(max_size=8)),
    "customer_phone": st.text(max_size=20),
    "product": st.text(max_size=20),
})


def run(raw: dict[str, Any]) -> Draft:
    draft = new_draft(2, raw)
    for stage in stages.PURE_STAGES:
        if draft.outcome in stage.outcomes:
            stage.run(draft, CTX)
    return draft


def _result(draft: Draft) -> dict[str, Any]:
    """What a run decided (the ciphertexts differ per run by design: random nonces)."""
    kept = dataclasses.asdict(draft)
    for name in ("text_enc", "identity", "prepared"):
        kept.pop(name, None)
    return kept


class TestAnyRecord:
    @given(text=any_text, extra=fields)
    def test_is_understood_or_rejected_naming_a_field(self, text: str,
                                                      extra: dict[str, Any]) -> None:
        draft = run({"text": text, **extra})
        if draft.rejected:
            assert draft.outcome == Outcome.REJECTED
            assert draft.error_field
            assert draft.error
        else:
            assert draft.severity in SEVERITIES
            assert draft.due_at is None or draft.due_at > CTX.now - draft.due_at.resolution

    @given(text=any_text, extra=fields)
    def test_the_same_record_gives_the_same_result(self, text: str,
                                                   extra: dict[str, Any]) -> None:
        assert _result(run({"text": text, **extra})) == _result(run({"text": text, **extra}))


class TestPersonalDataInTheText:
    @given(before=chinese, after=chinese, phone=mobiles)
    def test_a_mobile_number_never_reaches_the_masked_text(self, before: str, after: str,
                                                           phone: str) -> None:
        draft = run({"text": f"{before}，我的手机号{phone}，{after}"})
        assert not draft.rejected
        assert phone not in draft.text_masked
        assert phone not in draft.title

    @given(before=chinese, after=chinese, number=id_numbers)
    def test_an_id_number_never_reaches_the_masked_text(self, before: str, after: str,
                                                        number: str) -> None:
        assert id_number_ok(number)
        draft = run({"text": f"{before}身份证号{number}{after}"})
        assert not draft.rejected
        assert number not in draft.text_masked
        assert number[6:14] not in draft.text_masked  # nor the birth date inside it
