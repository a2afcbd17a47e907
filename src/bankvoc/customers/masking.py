"""Normal and display forms of identity fields (phones 138****5678, IDs 110***********1234,
e-mail addresses z***@example.cn)."""

from __future__ import annotations

import re
import unicodedata

_NON_DIGITS = re.compile(r"[^\d]")
_ID_NUMBER = re.compile(r"^(\d{17}[\dX]|\d{15})$")
# One "@", no spaces or further "@", a dot in the domain: what a reply can be sent to. The
# full RFC 5321 grammar (quoted local parts, address literals) is not worth accepting here.
_ADDRESS_CHAR = r"[^@\s<>()\[\],;:\"]"
_EMAIL = re.compile(rf"^{_ADDRESS_CHAR}{{1,64}}@{_ADDRESS_CHAR}+\.[^@\s<>()\[\],;:\".]+$")
EMAIL_MAX = 254


def normalise_phone(raw: str) -> str:
    digits = _NON_DIGITS.sub("", raw)
    if len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]
    return digits


def valid_phone(normalised: str) -> bool:
    """Mainland mobile (11 digits, 1x) or a landline with area code (0 + 9-11 digits)."""
    if valid_mobile(normalised):
        return True
    return normalised.startswith("0") and 10 <= len(normalised) <= 12


def valid_mobile(normalised: str) -> bool:
    """A mainland mobile number: what an SMS can reach."""
    return len(normalised) == 11 and normalised.startswith("1")


def normalise_id_number(raw: str) -> str:
    return re.sub(r"\s", "", raw).upper()


def valid_id_number(normalised: str) -> bool:
    return bool(_ID_NUMBER.match(normalised))


def normalise_email(raw: str) -> str:
    """The comparable form of an e-mail address: NFKC (a full-width ＠ or letter typed in a
    Chinese input method becomes ASCII), no surrounding spaces, angle brackets or "mailto:",
    no trailing dot on the domain, and lower case throughout. Mail providers treat addresses
    case-insensitively, so one customer writing Zhang.San@… and zhang.san@… is one customer
    (RFC 5321 allows a case-sensitive local part; no provider we know of uses that)."""
    text = unicodedata.normalize("NFKC", raw).strip().strip("<>").strip()
    if text[:7].lower() == "mailto:":
        text = text[7:].strip()
    return text.lower().rstrip(".")


def valid_email(normalised: str) -> bool:
    return len(normalised) <= EMAIL_MAX and bool(_EMAIL.match(normalised))


# --- cleaning: the normal form of a value as written, or ValueError saying what is wrong -------
# One rule for every way in (intake records, webhook customers, complainants added to a case),
# so what one accepts the others accept.

def clean_phone(raw: str) -> str:
    phone = normalise_phone(raw)
    if not valid_phone(phone):
        raise ValueError("is not a mainland mobile (11 digits) or landline number")
    return phone


def clean_id_number(raw: str) -> str:
    number = normalise_id_number(raw)
    if not valid_id_number(number):
        raise ValueError("is not an 18-digit (or 15-digit) ID number")
    if not id_checksum_ok(number):
        raise ValueError("fails the ID number checksum")
    return number


def clean_email(raw: str) -> str:
    address = normalise_email(raw)
    if not valid_email(address):
        raise ValueError("is not an e-mail address")
    return address


def mask_email(normalised: str) -> str:
    """The first character of the local part and the domain: z***@example.cn."""
    user, _, domain = normalised.rpartition("@")
    if not user or not domain:
        return "***"
    return (user[:1] + "***@" + domain)[:120]


def mask_phone(normalised: str) -> str:
    if len(normalised) < 7:
        return "*" * len(normalised)
    return normalised[:3] + "*" * (len(normalised) - 7) + normalised[-4:]


def mask_id_number(normalised: str) -> str:
    if len(normalised) < 8:
        return "*" * len(normalised)
    return normalised[:3] + "*" * (len(normalised) - 7) + normalised[-4:]


def mask_name(name: str) -> str:
    name = name.strip()
    if not name:
        return ""
    if name.isascii():
        return " ".join(w[0] + "*" * (len(w) - 1) for w in name.split())
    return name[0] + "*" * (len(name) - 1)


def birth_year(normalised_id: str) -> int | None:
    """The birth year an ID number carries (18 digits: positions 7-10; 15 digits: 19yy)."""
    if len(normalised_id) == 18:
        return int(normalised_id[6:10])
    if len(normalised_id) == 15:
        return 1900 + int(normalised_id[6:8])
    return None


_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def id_checksum_ok(number: str) -> bool:
    """GB 11643: the 18th character is a mod-11 checksum of the first 17 digits."""
    number = number.upper()
    if len(number) == 15:
        return number.isdigit()
    if len(number) != 18 or not number[:17].isdigit():
        return False
    return _ID_CHECK[id_weighted_sum(number[:17]) % 11] == number[17]


def id_weighted_sum(first17: str) -> int:
    digits = first17.encode()
    return sum(w * (d - 48) for w, d in zip(_ID_WEIGHTS, digits, strict=True))


def id_check_char(first17: str) -> str:
    """The check character that completes 17 digits into a valid ID number."""
    return _ID_CHECK[id_weighted_sum(first17) % 11]
