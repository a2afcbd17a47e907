from __future__ import annotations

from enum import StrEnum


class VisitKind(StrEnum):
    inspection = "inspection"  # 网点检查
    mystery_shopper = "mystery_shopper"  # 神秘客户暗访


class Result(StrEnum):
    passed = "pass"
    failed = "fail"
    na = "na"  # not applicable at this visit


class FindingStatus(StrEnum):
    open = "open"
    done = "done"
