"""Map the column headers of an import file onto the canonical case fields.

Every bank system exports its own column names ("投诉内容", "诉求内容", "Consumer complaint
narrative", ...). Known names are recognised automatically through `HEADER_SYNONYMS`; anything
else is mapped by a small YAML file passed with `bankvoc import --mapping`. The mapping is
settled once per file, so applying it to a row is a dict walk with no text processing.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bankvoc.core.errors import Invalid
from bankvoc.intake.schemas import CANONICAL_FIELDS


class MappingError(Invalid):
    """A mapping file that cannot be used, or a file whose columns cannot be mapped."""

    code = "invalid_mapping"

    def __init__(self, message: str, *, field: str | None = "mapping") -> None:
        super().__init__(message, field=field)


# Names seen in bank exports, regulator templates and public data sets (CFPB), by field.
# Deliberately absent: 序号/No. (a row counter, not an id), 备注 (remarks, not the complaint),
# 处理结果/回复内容 (the bank's answer, not the customer's words), company (CFPB: the firm
# complained about, not one of our orgs).
# fmt: off
_SYNONYMS_BY_FIELD: dict[str, tuple[str, ...]] = {
    "source_id": (
        "工单编号", "工单号", "投诉编号", "投诉单号", "投诉工单号", "投诉工单编号", "来源编号",
        "流水号", "受理编号", "受理号", "受理单号", "案件编号", "事件编号", "业务编号",
        "原始编号", "原工单号", "外部编号", "单号", "编号",
        "source id", "case id", "case no", "case number", "ticket id", "ticket no",
        "ticket number", "complaint id", "complaint no", "complaint number", "reference",
        "reference no", "reference number", "ref no", "id",
    ),
    "source_system": (
        "来源系统", "系统来源", "源系统", "数据来源", "来源系统名称", "系统名称",
        "source system", "system", "origin system",
    ),
    "received_at": (
        "受理时间", "投诉时间", "登记时间", "来电时间", "接收时间", "收到时间", "提交时间",
        "创建时间", "反映时间", "进线时间", "来信时间", "工单创建时间", "受理日期", "投诉日期",
        "登记日期", "来电日期", "接收日期", "收到日期", "提交日期", "创建日期", "日期", "时间",
        "received at", "received", "date received", "received date", "receive time",
        "received time", "date", "created", "created at", "create time", "creation date",
        "submitted at", "submitted", "complaint date", "timestamp",
    ),
    "channel": (
        "受理渠道", "投诉渠道", "渠道", "来源渠道", "投诉来源", "来源", "进线渠道", "反映渠道",
        "接入渠道", "受理方式", "投诉方式", "渠道来源",
        "channel", "source channel", "intake channel", "submitted via", "via",
    ),
    "customer_name": (
        "客户姓名", "姓名", "投诉人", "投诉人姓名", "客户名称", "客户名", "客户", "户名",
        "联系人", "来电人", "申请人", "反映人", "当事人",
        "customer name", "customer", "name", "client name", "client", "complainant",
        "consumer name",
    ),
    "customer_phone": (
        "联系电话", "手机号", "手机号码", "电话", "来电号码", "电话号码", "联系方式", "客户电话",
        "客户手机号", "客户手机号码", "客户联系电话", "投诉人电话", "投诉人联系电话", "手机",
        "移动电话", "联系号码", "主叫号码",
        "phone", "mobile", "phone number", "mobile number", "mobile phone", "telephone", "tel",
        "contact number", "customer phone", "cell phone",
    ),
    "customer_email": (
        "电子邮箱", "邮箱", "电子邮件", "邮件地址", "邮箱地址", "客户邮箱", "投诉人邮箱",
        "email", "e-mail", "email address", "e-mail address", "customer email",
    ),
    "customer_id_number": (
        "证件号码", "身份证号", "身份证号码", "证件号", "身份证", "证件编号", "身份证件号码",
        "客户证件号", "客户证件号码", "投诉人证件号码", "客户身份证号",
        "id number", "id no", "id card", "id card number", "identity number", "national id",
    ),
    "text": (
        "投诉内容", "内容", "诉求内容", "问题描述", "工单内容", "反映内容", "客户诉求",
        "投诉详情", "详细内容", "具体内容", "投诉描述", "投诉事项", "投诉问题", "事件描述",
        "情况描述", "问题内容", "诉求", "诉求描述", "来电内容", "来信内容", "留言内容",
        "意见内容", "建议内容", "咨询内容", "客户反映", "客户反映内容", "详情", "描述",
        "事由", "投诉事由",
        "description", "complaint", "text", "narrative", "consumer complaint narrative",
        "complaint narrative", "complaint text", "complaint description", "content",
        "details", "problem description", "issue description", "message",
    ),
    "title": (
        "标题", "摘要", "主题", "投诉标题", "工单标题", "投诉摘要", "投诉主题", "概要",
        "subject", "title", "summary", "headline",
    ),
    "amount": (
        "涉及金额", "金额", "争议金额", "交易金额", "投诉金额", "涉诉金额", "涉案金额",
        "损失金额",
        "amount", "disputed amount", "amount involved",
    ),
    "org": (
        "所属机构", "机构", "被投诉机构", "网点", "分行", "支行", "机构代码", "机构名称",
        "机构号", "所属分行", "所属支行", "所属网点", "被投诉网点", "被投诉单位", "责任机构",
        "承办机构", "受理机构", "经办机构", "归属机构",
        "org", "org code", "organisation", "organization", "branch", "branch code", "outlet",
    ),
    "product": (
        "业务类型", "产品", "产品类型", "业务品种", "产品名称", "产品类别", "业务种类",
        "业务类别", "业务", "涉及产品", "涉及业务", "投诉业务",
        "product", "product type", "business type", "business line",
    ),
    "category": (
        "投诉类别", "问题类别", "类别", "投诉原因", "问题分类", "投诉分类", "投诉类型",
        "问题类型", "诉求分类", "分类", "原因",
        "category", "issue", "reason", "cause", "complaint category", "complaint type",
    ),
    "kind": (
        "工单类型", "类型", "诉求类型", "工单类别", "来电类型", "来电类别", "事件类型",
        "kind", "type", "case type", "ticket type", "request type",
    ),
    "severity": (
        "紧急程度", "等级", "严重程度", "投诉等级", "投诉级别", "工单级别", "级别", "重要程度",
        "优先级",
        "severity", "priority", "level", "urgency",
    ),
    "origin": (
        "转办来源", "转办机构", "转送机构", "监管转办来源", "投诉来源类型",
        "origin", "transferred by", "referred by",
    ),
    "origin_reference": (
        "转办编号", "转办单号", "监管编号", "监管工单号", "转送编号",
        "origin reference", "regulator reference", "referral number",
    ),
}
# fmt: on

# Characters that vary between exports of the same column and carry no meaning: spacing,
# separators, the "*" templates put on required columns, BOMs and zero-width spaces.
_NOISE = re.compile(r"[\s_\-*:：()\[\]【】<>《》.,，、。·/\\#?'\"|\ufeff\u200b]+")
# A bracketed note after the name: "金额（元）", "客户姓名(必填)", "投诉内容 (2)".
_BRACKETED = re.compile(r"[(\[【<《][^)\]】>》]*[)\]】>》]")


def normalise_header(h: str) -> str:
    """The comparable form of a header: NFKC (full-width -> half-width), lower case, no noise."""
    return _NOISE.sub("", unicodedata.normalize("NFKC", h).lower())


def _build_synonyms() -> dict[str, str]:
    synonyms = {normalise_header(name): name for name in CANONICAL_FIELDS}
    for canonical, names in _SYNONYMS_BY_FIELD.items():
        synonyms.update((normalise_header(name), canonical) for name in names)
    return synonyms


HEADER_SYNONYMS: dict[str, str] = _build_synonyms()


def canonical_field(header: str) -> str | None:
    """The canonical field a header names, if it is a known name (with or without a note)."""
    found = HEADER_SYNONYMS.get(normalise_header(header))
    if found is None:
        without_notes = _BRACKETED.sub("", unicodedata.normalize("NFKC", header))
        found = HEADER_SYNONYMS.get(normalise_header(without_notes))
    return found


def header_score(headers: list[str]) -> int:
    """How many cells are known column names: a header hint for `readers.open_rows`."""
    return sum(1 for h in headers if h and canonical_field(h) is not None)


@dataclass(frozen=True)
class HeaderMapping:
    columns: dict[str, str]  # file header -> canonical field, in file order
    unmapped: list[str] = field(default_factory=list)  # file headers ignored

    def apply(self, values: dict[str, Any]) -> dict[str, Any]:
        """Canonical field -> value of a row; fields with no value are left out.

        When several columns map to one field, the first (in file order) with a value wins.
        """
        out: dict[str, Any] = {}
        for header, canonical in self.columns.items():
            if canonical in out:
                continue
            value = values.get(header)
            if value is None or (isinstance(value, str) and not value.strip()):
                continue
            out[canonical] = value
        return out


def build_mapping(headers: list[str], mapping_file: Path | None = None) -> HeaderMapping:
    """Map a file's headers: known names automatically, then the mapping file's entries on top.

    A field named in the mapping file is taken only from the columns the file maps to it, so
    an explicit choice is never shadowed by an automatically recognised column.
    """
    columns = {h: f for h in headers if (f := canonical_field(h)) is not None}
    if mapping_file is not None:
        columns = _apply_overrides(headers, columns, load_mapping_file(mapping_file))
    columns = {h: columns[h] for h in headers if h in columns}  # back to file order
    if "text" not in columns.values():
        found = ", ".join(headers[:30]) + (", ..." if len(headers) > 30 else "")
        raise MappingError(
            "no column for the case text (e.g. 投诉内容); map one with --mapping"
            f" (columns in the file: {found or 'none'})",
            field="text",
        )
    return HeaderMapping(columns, [h for h in headers if h not in columns])


def _apply_overrides(
    headers: list[str], columns: dict[str, str], entries: dict[str, str | None]
) -> dict[str, str]:
    # Entries match a header exactly or, failing that, by normalised form ("投诉内容 " etc.).
    by_form = {normalise_header(k): v for k, v in entries.items()}
    explicit: dict[str, str | None] = {}
    for h in headers:
        if h in entries:
            explicit[h] = entries[h]
        elif (form := normalise_header(h)) in by_form:
            explicit[h] = by_form[form]
    chosen = {f for f in explicit.values() if f is not None}
    result = {h: f for h, f in columns.items() if h not in explicit and f not in chosen}
    result.update({h: f for h, f in explicit.items() if f is not None})
    return result


def load_mapping_file(path: Path) -> dict[str, str | None]:
    """Read a mapping file: file header -> canonical field, or null to ignore the column.

    Either flat (`投诉详情: text`) or under a `columns:` key. Parsed from YAML nodes rather than
    values so that every error can name its line.
    """
    root = _compose(path)
    if root is None:
        raise MappingError("the mapping file is empty")
    if not isinstance(root, yaml.MappingNode):
        raise MappingError(
            f"mapping file line {_line(root)}: expected 'file header: field' lines, "
            "e.g. '投诉详情: text'"
        )
    for key, value in root.value:
        if _scalar(key) == "columns" and isinstance(value, yaml.MappingNode):
            root = value
            break
    return dict(_entry(key, value) for key, value in root.value)


def _compose(path: Path) -> yaml.Node | None:
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise MappingError(f"cannot read the mapping file: {exc.strerror or exc}") from exc
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("gb18030", errors="replace")  # Notepad on a Chinese Windows
    try:
        return yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        raise MappingError(f"mapping file {_yaml_error_place(exc)}") from exc
    except yaml.YAMLError as exc:
        raise MappingError(f"mapping file: YAML error: {exc}") from exc


def _yaml_error_place(exc: yaml.MarkedYAMLError) -> str:
    """'line N: YAML syntax error: problem', plus where the unfinished construct began."""
    mark, context = exc.problem_mark, exc.context_mark
    if mark is None:
        mark, context = context, None
    where = f"line {mark.line + 1}" if mark is not None else "(unknown line)"
    text = f"{where}: YAML syntax error: {exc.problem or exc.context}"
    if context is not None and exc.context and (mark is None or context.line != mark.line):
        text += f" ({exc.context} started on line {context.line + 1})"
    return text


def _entry(key: yaml.Node, value: yaml.Node) -> tuple[str, str | None]:
    line = _line(key)
    header = _scalar(key)
    if header is None or not header.strip():
        raise MappingError(f"mapping file line {line}: a column header must be plain text")
    header = header.strip()
    if isinstance(value, yaml.ScalarNode) and value.tag == "tag:yaml.org,2002:null":
        return header, None  # "备注: ~" ignores a column that would otherwise be mapped
    target = _scalar(value)
    if target is None:
        raise MappingError(
            f"mapping file line {line}: column {header!r} must map to one field name, "
            "not a list or mapping"
        )
    target = target.strip()
    if target.lower() not in CANONICAL_FIELDS:
        hint = ""
        if header in CANONICAL_FIELDS:
            hint = f" (entries go from file header to field: write '{target}: {header}')"
        raise MappingError(
            f"mapping file line {line}: column {header!r} is mapped to unknown field "
            f"{target!r}{hint}; valid fields: {', '.join(CANONICAL_FIELDS)}"
        )
    return header, target.lower()


def _scalar(node: yaml.Node) -> str | None:
    return node.value if isinstance(node, yaml.ScalarNode) else None


def _line(node: yaml.Node) -> int:
    return int(node.start_mark.line) + 1
