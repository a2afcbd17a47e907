"""Find and mask personal data in free text: ID numbers, mobiles, landlines, bank cards, e-mail
addresses and names introduced as such.

Numbers count only when they pass their checks (ID checksum and birth date, Luhn and a card
prefix, a real area code), so amounts (12345.67元, ¥50000), dates (20261101), case references
(TS20261122000123, 工单号 …) and service hotlines (95533, 400-820-8888, 12378) stay as written.
Masked text is what analytics, exports and logs see (PIPL art. 28: ID numbers and financial
accounts are sensitive personal information): a miss leaks data, and a false hit hides what a
handler needs (an amount, a hotline), so every rule checks what it can.

Speed: one regular expression with a named group per number shape scans only the runs of digits
of a text, and only when it has a digit; e-mail only when it has an "@"; names only after an
introducing word (我叫, 姓名：, my name is …).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from importlib import resources

from bankvoc.customers.masking import id_checksum_ok, mask_id_number, mask_name, mask_phone

PII_TYPES = ("id_number", "mobile", "landline", "bank_card", "email", "name")


@dataclass(frozen=True)
class PiiSpan:
    type: str
    start: int  # character offsets, end exclusive
    end: int


# --- numbers -------------------------------------------------------------------------------------

# Full-width digits and signs (１３８…, ＋86, （021）) read as ASCII, character for character, so
# offsets stay true.
_FOLD = str.maketrans({**{chr(0xFF10 + i): str(i) for i in range(10)},
                       "＋": "+", "－": "-", "（": "(", "）": ")", "＠": "@", "　": " "})
_DIGIT = re.compile(r"[0-9０-９]")

# Not inside a longer run of letters and digits (TS20261122000123 is a case reference), nor the
# decimals of an amount.
_BEFORE = r"(?<![0-9A-Za-z_])(?<![0-9]\.)"
_AFTER = r"(?![0-9A-Za-z_])(?!\.[0-9])"
_SEP = r"[ -]?"
_NUMBERS = re.compile(
    _BEFORE + "(?:"
    r"(?P<id_number>[0-9]{17}[0-9Xx]|[0-9]{15})"
    r"|(?P<bank_card>[0-9]{16,19}|[0-9]{4}(?P<cs>[ -])[0-9]{4}(?P=cs)[0-9]{4}(?P=cs)[0-9]{4}"
    r"(?:(?P=cs)[0-9]{1,3})?)"
    rf"|(?P<mobile>(?:\(?(?:\+|00)?86\)?{_SEP})?1[3-9][0-9]{_SEP}[0-9]{{4}}{_SEP}[0-9]{{4}})"
    rf"|(?P<landline>(?:\(0[0-9]{{2,3}}\)|0[0-9]{{2,3}}){_SEP}[1-9][0-9]{{2,3}}{_SEP}[0-9]{{4}})"
    ")" + _AFTER)

# GB/T 2260 province codes: the first two digits of every mainland ID number (81-83: Hong Kong,
# Macau and Taiwan residents' permits).
_PROVINCES = frozenset(str(code) for code in (
    *range(11, 16), *range(21, 24), *range(31, 38), *range(41, 47), *range(50, 55),
    *range(61, 66), 71, 81, 82, 83))

# Words that make the number after them a reference of the bank's, not a person's: 工单号,
# 流水号, 订单号, case no., …  (卡号 and 账号 are not among them: those are personal.)
_REFERENCE = re.compile(
    r"(?:单号|(?<![证卡])编号|流水号|交易号|参考号|案件号|合同号|受理号|回执号|凭证号|批次号|"
    r"(?i:case|ref|reference|order|ticket|transaction|tracking))"
    r"\s*(?i:no\.?|number|id|#)?\s*[:：#]?\s*$")
# An amount: a currency sign before, or a currency word after.
_AMOUNT_BEFORE = re.compile(r"(?:[¥￥$]|(?i:rmb|cny|usd))\s*$")
_AMOUNT_AFTER = re.compile(r"\s*(?:元|块|万|(?i:yuan|rmb|cny))")


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _real_date(year: int, month: int, day: int) -> bool:
    try:
        return date(year, month, day) <= date.today()
    except ValueError:
        return False


def id_number_ok(number: str) -> bool:
    """A mainland ID number: province code, a real birth date, and (18 digits) the checksum."""
    number = number.upper()
    if number[:2] not in _PROVINCES:
        return False
    if len(number) == 15:  # the old form: 6 area digits, yymmdd, 3 sequence digits, no checksum
        return _real_date(1900 + int(number[6:8]), int(number[8:10]), int(number[10:12]))
    return (len(number) == 18 and id_checksum_ok(number)
            and _real_date(int(number[6:10]), int(number[10:12]), int(number[12:14])))


def bank_card_ok(digits: str) -> bool:
    """16-19 digits passing Luhn with a card scheme's first digit.

    UnionPay 62, Visa 4, Mastercard 51-55 and 2221-2720, JCB 35, and the domestic debit cards
    that begin with 9 (9558…). Dates and references that begin with 1, 2 (as in 2026…), 7 or 8
    are never cards, whatever Luhn says (one in ten numbers passes it by chance).
    """
    if not 16 <= len(digits) <= 19 or not luhn_ok(digits):
        return False
    return digits[0] in "3456" or digits[0] == "9" or "2221" <= digits[:4] <= "2720"


def _landline_ok(digits: str) -> bool:
    """Area code 010 or 02x (3 digits) or 03xx-09xx (4 digits), then a 7- or 8-digit number."""
    if digits.startswith(("010", "02")):
        area = 3
    elif digits[1] in "3456789":
        area = 4
    else:
        return False
    return 7 <= len(digits) - area <= 8


_NUMBER_CHECKS = {
    "id_number": id_number_ok,
    "bank_card": bank_card_ok,
    "mobile": lambda digits: True,  # the shape says it all: 11 digits beginning 13-19
    "landline": _landline_ok,
}


def _number_kind(kind: str, value: str) -> str | None:
    """The type a number shape really has once checked; an 18-digit non-ID may be a card."""
    digits = value.translate(_NON_DIGIT) if kind != "id_number" else value
    if _NUMBER_CHECKS[kind](digits):
        return kind
    if kind == "id_number" and value.isdigit() and bank_card_ok(value):
        return "bank_card"
    return None


_NON_DIGIT = str.maketrans("", "", " -()+")


def _is_reference_or_amount(text: str, start: int, end: int) -> bool:
    before = text[max(0, start - 16):start]
    return (_REFERENCE.search(before) is not None or _AMOUNT_BEFORE.search(before) is not None
            or _AMOUNT_AFTER.match(text, end) is not None)


# Where a number may be: a run of at least ten digits, spaces, dashes, brackets and plus signs.
# Beginning with a character class lets the regex engine skip to candidates at C speed (the
# full pattern, which begins with look-behinds, tries every position of the text: 80 µs on a
# 1,000-character narrative, against 5 µs).
_CANDIDATE = re.compile(r"[0-9(+][-0-9 ()+]{8,}[0-9Xx]")


def _numbers(text: str) -> list[PiiSpan]:
    spans = []
    for candidate in _CANDIDATE.finditer(text):
        # The look-behind sees the whole text; two characters after the end are enough for the
        # look-ahead (".5" of an amount).
        end = min(len(text), candidate.end() + 2)
        for match in _NUMBERS.finditer(text, candidate.start(), end):
            kind = match.lastgroup  # the outer named group: cs closes inside bank_card
            assert kind is not None
            found = _number_kind(kind, match.group(kind))
            start, stop = match.span()
            if found is not None and not _is_reference_or_amount(text, start, stop):
                spans.append(PiiSpan(found, start, stop))
    return spans


# --- e-mail --------------------------------------------------------------------------------------

_EMAIL = re.compile(r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*"
                    r"\.[A-Za-z]{2,}")


def _emails(text: str) -> list[PiiSpan]:
    return [PiiSpan("email", m.start(), m.end()) for m in _EMAIL.finditer(text)]


# --- names ---------------------------------------------------------------------------------------

# How a name is introduced, as one alternation of plain words (which the regex engine skips to at
# C speed; groups or mixed case would make it try every position of a long text). A label
# (姓名：, 户名：) is trusted even without a known surname; a sentence (我叫, 我的名字是) needs a
# known surname; 本人 also needs the name to be followed by punctuation or a word such as
# 的/于/身份证, because 本人 mostly begins ordinary sentences.
_ZH_INTRO = re.compile(r"我的名字是|我的名字叫|本人叫|我叫|名叫|姓名|名字|联系人|户名|持卡人|"
                       r"开户人|申请人|投诉人|本人")
_SAY = frozenset({"我的名字是", "我的名字叫", "本人叫", "我叫", "名叫"})
_LABEL_SEP = re.compile(r"\s*([:：]|是|为)?\s*")
_ZH_RUN = re.compile(r"[\u4e00-\u9fff·]{1,6}")
_WEAK_FOLLOW = re.compile(r"[^\u4e00-\u9fff]|$|的|于|在|是|因|现|称|身份证|电话|手机|反映|投诉|"
                          r"来电|致电|先生|女士")
# English: "my name is", "my name's" or a "Name:" label, then one to three capitalised words.
_EN_INTRO = re.compile(r"[Nn][Aa][Mm][Ee]")
_EN_MY = re.compile(r"(?<![A-Za-z])[Mm][Yy]\s+$")
_EN_SAID = re.compile(r"(?:\s+[Ii][Ss]|'[Ss])\s+")
_EN_LABEL = re.compile(r"\s*:\s*")
_EN_NAME = re.compile(r"[A-Z][a-z]+(?:[-'’][A-Za-z]+)?(?: [A-Z][a-z]+(?:[-'’][A-Za-z]+)?){0,2}")
# Characters that end a given name: function words, pronouns, time words and titles seldom
# appear in one (王五于…, 张三身份证…, 李先生).
_STOP = frozenset(
    "的了在是于和与及因为从向到对把被给让叫已曾也都就还又再将会能可要想需请去来说讲问做用有没"
    "不未无非别很太多次过着们个些所其之得地吗呢吧啊哦我你他她它您咱贵行号卡电手身钱元万年月日"
    "时分今昨前后这那此该每本上下先女老经总主任工同反投诉办收现")


@lru_cache(maxsize=1)
def _surnames() -> tuple[frozenset[str], frozenset[str]]:
    """(single-character, compound) surnames from lexicons/zh_surnames.txt."""
    text = resources.files("bankvoc.nlp").joinpath("lexicons", "zh_surnames.txt")
    names = [line.strip() for line in text.read_text("utf-8").splitlines()
             if line.strip() and not line.startswith("#")]
    return frozenset(n for n in names if len(n) == 1), frozenset(n for n in names if len(n) > 1)


def _given_length(run: str, start: int, most: int = 2) -> int:
    """How many of the (at most `most`) characters from `start` belong to the name."""
    length = 0
    for char in run[start:start + most]:
        if char in _STOP:
            break
        length += 1
    return length


def _chinese_name(text: str, at: int, kind: str, labelled: bool) -> int:
    """The length of the name starting at `at`, or 0 when it does not look like one.

    `kind` is how it was introduced ("label", "say" or "weak"); `labelled` means a plain field
    (姓名：…), where a name without a known surname is believed too.
    """
    run = _ZH_RUN.match(text, at)
    if run is None:
        return 0
    chars = run.group()
    single, compound = _surnames()
    surname = 2 if chars[:2] in compound else 1 if chars[0] in single else 0
    if surname == 0:
        # A name without a known surname (阿依古丽) is believed only in a plain field.
        return _given_length(chars, 0, most=4) if labelled else 0
    for given in range(_given_length(chars, surname), 0, -1):
        end = at + surname + given
        if kind != "weak" or _WEAK_FOLLOW.match(text, end) is not None:
            return surname + given
    return 0


def _chinese_names(text: str) -> list[PiiSpan]:
    spans = []
    for match in _ZH_INTRO.finditer(text):
        intro, labelled = match.group(), False
        if intro in _SAY:
            kind, at = "say", match.end()
        elif intro == "本人":
            kind, at = "weak", match.end()
        else:
            sep = _LABEL_SEP.match(text, match.end())
            assert sep is not None  # everything in it is optional
            kind, at = "label", sep.end()
            # A label is trusted without a known surname only when it is plainly a field.
            labelled = sep.group(1) is not None or intro == "姓名"
        length = _chinese_name(text, at, kind, labelled)
        if length >= 2:
            spans.append(PiiSpan("name", at, at + length))
    return spans


def _english_names(text: str) -> list[PiiSpan]:
    spans = []
    for match in _EN_INTRO.finditer(text):
        start, end = match.span()
        if start and text[start - 1].isalpha():  # username, surname: not an introduction
            continue
        intro = _EN_LABEL.match(text, end)
        if intro is None and _EN_MY.search(text, max(0, start - 8), start) is not None:
            intro = _EN_SAID.match(text, end)
        name = _EN_NAME.match(text, intro.end()) if intro is not None else None
        if name is not None:
            spans.append(PiiSpan("name", name.start(), name.end()))
    return spans


# --- together ------------------------------------------------------------------------------------

def find_pii(text: str) -> list[PiiSpan]:
    """Every piece of personal data in `text`, in order, none overlapping."""
    spans: list[PiiSpan] = []
    # Each reader runs only when the text has what it looks for (a plain test, at C speed):
    # folding only when there is something to fold (ASCII text has no full-width forms),
    # Chinese names only in text that is not plain ASCII (every introducing word is Chinese),
    # English ones only when "name" is there in some case.
    plain = text.isascii()
    if "@" in text or "＠" in text:
        spans += _emails(text if plain else text.translate(_FOLD))
    if _DIGIT.search(text) is not None:
        numbers = _numbers(text if plain else text.translate(_FOLD))
        # A number inside an e-mail address (13812345678@qq.com) is part of that address.
        spans += [n for n in numbers if not any(s.start <= n.start < s.end for s in spans)]
    if not plain:
        spans += _chinese_names(text)
    if "name" in text.lower():
        spans += _english_names(text)
    return sorted(spans, key=lambda s: s.start)


def _mask_card(value: str) -> str:
    """Keep the first and last four digits and every separator: 6222 **** **** 0123."""
    total = sum(ch.isdigit() for ch in value)
    out, seen = [], 0
    for ch in value:
        if ch.isdigit():
            seen += 1
            out.append(ch if seen <= 4 or seen > total - 4 else "*")
        else:
            out.append(ch)
    return "".join(out)


def _mask_span(kind: str, value: str) -> str:
    folded = value.translate(_FOLD)
    digits = "".join(ch for ch in folded if ch.isdigit())
    if kind == "id_number":
        return mask_id_number(folded.upper())
    if kind == "mobile":
        return mask_phone(digits[-11:])
    if kind == "landline":
        return mask_phone(digits)
    if kind == "bank_card":
        return _mask_card(folded)
    if kind == "email":
        user, _, domain = folded.partition("@")
        return user[:1] + "***@" + domain
    if kind == "name":
        return mask_name(value)
    return "*" * len(value)


def mask_text(text: str, spans: list[PiiSpan] | None = None) -> str:
    spans = find_pii(text) if spans is None else spans
    if not spans:
        return text
    out: list[str] = []
    cursor = 0
    for span in spans:
        out.append(text[cursor:span.start])
        out.append(_mask_span(span.type, text[span.start:span.end]))
        cursor = span.end
    out.append(text[cursor:])
    return "".join(out)
