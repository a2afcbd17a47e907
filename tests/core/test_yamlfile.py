"""Bank-edited YAML files refused with line and reason: the parts every such file shares."""

from __future__ import annotations

import datetime as dt

import pytest
from pydantic import BaseModel, ConfigDict, model_validator

from bankvoc.core.errors import ConfigurationError, Invalid
from bankvoc.core.yamlfile import FileRefused, Problem, YamlFileError, parse_yaml


class _Error(YamlFileError):
    code = "test_invalid"
    default_field = "test"


class _Setup(FileRefused, ConfigurationError):
    default_field = "setup"


class _File(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: str
    day: dt.date | None = None
    names: list[str] = []

    @model_validator(mode="after")
    def _consistent(self) -> _File:
        if "nobody" in self.names:
            # The feature's own error, as a model validated outside a file raises it.
            raise _Error.of([Problem(("names", self.names.index("nobody")), "is nobody")],
                            source="test.yaml")
        return self


def refusal(text: str, error: type[FileRefused] = _Error) -> FileRefused:
    with pytest.raises(error) as caught:
        parse_yaml(text, _File, source="t.yaml", error=error)
    return caught.value


class TestImpossibleDates:
    def test_one_in_a_text_field_is_refused_at_its_line(self) -> None:
        error = refusal('names: [a]\nversion: 2026-02-30\n')
        assert [p.to_dict() for p in error.problems] == [{
            "line": 2, "path": "version",
            "reason": "'2026-02-30' reads as a date but is not one (day is out of range for "
                      "month): correct the date, or put it in quotes if it is text"}]

    def test_quoted_it_is_text(self) -> None:
        assert parse_yaml('version: "2026-02-30"', _File, source="t.yaml",
                          error=_Error).version == "2026-02-30"

    def test_one_the_model_refuses_is_reported_once_with_the_models_reason(self) -> None:
        error = refusal('version: "1"\nday: 2026-13-01\n')
        assert [(p.line, p.path) for p in error.problems] == [(2, "day")]
        assert "2026-13-01" in error.problems[0].reason
        assert "reads as a date" not in error.problems[0].reason

    def test_one_in_a_list_names_its_entry(self) -> None:
        error = refusal('version: "1"\nnames:\n  - a\n  - 2026-04-31\n')
        assert [(p.line, p.path) for p in error.problems] == [(4, "names[1]")]


class TestErrors:
    def test_the_features_own_error_from_the_model_gets_its_line(self) -> None:
        error = refusal('version: "1"\nnames:\n  - a\n  - nobody\n')
        assert error.message == "t.yaml line 4: names[1]: is nobody"

    def test_validated_directly_the_model_raises_the_features_error(self) -> None:
        with pytest.raises(_Error, match=r"^test\.yaml: names\[0\]: is nobody$"):
            _File.model_validate({"version": "1", "names": ["nobody"]})

    def test_a_file_refused_as_input_is_invalid(self) -> None:
        error = refusal("version: [\n")
        assert isinstance(error, Invalid)
        assert (error.status, error.code, error.field) == (422, "test_invalid", "test")

    def test_a_file_the_application_needs_can_be_a_configuration_error(self) -> None:
        error = refusal("version: [\n", _Setup)
        assert isinstance(error, ConfigurationError)
        assert not isinstance(error, Invalid)
        assert (error.status, error.code, error.field) == (500, "configuration", "setup")
        assert error.message.startswith("t.yaml line 2: not valid YAML")
