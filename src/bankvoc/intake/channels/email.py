"""E-mail in: an RFC 5322 message (as bytes) becomes a case registration.

- Mail no person wrote (auto-replies, bounces, receipts, list and bulk mail; see
  `channels.autoreply`) becomes no case and is never answered: it is kept as an ignored
  `channel_message` with the reason. A sender past the flood limit has further mail held
  (see `service.flood_reason`), not made a case per message.
- Sender: the From address (the envelope sender when From is missing or unusable) is the
  customer's contact, kept encrypted on the `channel_message` row of the case (with a blind
  index and a masked form, and the display name), where the notification adapters find the
  address to answer. A valid address is also the customer's e-mail identity: it finds the
  customer known by it (and so their open cases, where the same matter joins the case), or
  makes a new customer known by it, with the display name as the name. An address in the
  bank's own mail domains (BANKVOC_INBOUND_MAIL_DOMAINS) is staff forwarding complaints: it
  is no customer's identity, and the flood guard leaves it alone.
- Text: the subject, then the plain-text body; an HTML-only message is converted to text. A
  text over BANKVOC_TEXT_MAX_CHARS is cut, and the whole message is then kept as evidence.
- Identity: the Message-ID is the source id under source system "email", so a redelivered
  message is stored once; a message without one is keyed by its content.
- Time: the Date header is the receipt time, unless it is missing, unreadable or in the
  future (the arrival time is used then, with a note on the case).
- Attachments are stored as case evidence; one over BANKVOC_ATTACHMENT_MAX_BYTES is refused
  with an event on the case naming it. A forwarded message (message/rfc822) is kept as .eml.
- Charsets: GB2312/GBK labels are read as GB18030 (their superset, which is what Chinese mail
  clients really send); encoded-word (RFC 2047) and RFC 2231 headers and file names, and raw
  8-bit UTF-8 or GB18030 headers, are all decoded.
"""

from __future__ import annotations

import email
import email.utils
import hashlib
import mimetypes
import re
from datetime import UTC, datetime
from email.header import Header, decode_header
from email.message import Message
from html.parser import HTMLParser
from typing import Any

from sqlalchemy.orm import Session

from bankvoc.cases.enums import Channel
from bankvoc.core.errors import Invalid
from bankvoc.core.settings import get_settings
from bankvoc.core.timeutil import utcnow
from bankvoc.customers import masking
from bankvoc.intake.channels.autoreply import automatic_reason
from bankvoc.intake.channels.enums import MessageStatus
from bankvoc.intake.channels.service import (
    CONTACT_EMAIL,
    InboundFile,
    InboundMessage,
    Receipt,
    earlier_receipt,
    flood_reason,
    record_unregistered,
    register_inbound,
)
from bankvoc.intake.stages import FUTURE_TOLERANCE
from bankvoc.orgs.service import Actor

SOURCE_SYSTEM = "email"
MAX_SOURCE_ID = 128
ORIGINAL_NAME = "original-message.eml"
NO_TEXT = "（邮件无正文，见附件）"
CUT_MARK = "……（正文过长，已截断；全文见附件 original-message.eml）"
# How the case fields are called when a mail is refused: what the sender can fix.
FIELD_NAMES = {"text": "body", "title": "subject", "received_at": "date"}

# Labels mail clients use for GB2312/GBK text that in fact holds any GB18030 character.
_CHARSET_ALIASES = {
    "gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030", "cp936": "gb18030",
    "euc-cn": "gb18030", "x-euc-cn": "gb18030", "gb_2312-80": "gb18030", "csgb2312": "gb18030",
    "hz-gb-2312": "hz", "utf8": "utf-8", "unknown-8bit": "", "x-unknown": "",
}


def decode_bytes(data: bytes, charset: str | None) -> str:
    """Text of a header or body part: its declared charset first (GB labels read as
    GB18030), then UTF-8, then GB18030; never an exception."""
    declared = (charset or "").strip().lower()
    declared = _CHARSET_ALIASES.get(declared, declared)
    for candidate in (declared, "utf-8", "gb18030"):
        if not candidate:
            continue
        try:
            return data.decode(candidate)
        except (LookupError, UnicodeDecodeError):
            continue
    return data.decode("utf-8", errors="replace")


def _unescape_8bit(value: str) -> str:
    """A header that arrived as raw 8-bit bytes (no encoded words) is read as UTF-8, else
    GB18030; the parser hands such bytes over as surrogate escapes."""
    if not any("\udc80" <= ch <= "\udcff" for ch in value):
        return value
    return decode_bytes(value.encode("ascii", "surrogateescape"), None)


def decode_header_value(value: str | Header | None) -> str:
    """A header's text: encoded words decoded with their charsets, raw 8-bit bytes guessed."""
    if value is None:
        return ""
    if isinstance(value, str):
        value = _unescape_8bit(value)
    try:
        chunks = decode_header(value)
    except Exception:  # a malformed encoded word: keep the header as it came
        return str(value)
    out = []
    for chunk, charset in chunks:
        out.append(chunk if isinstance(chunk, str) else decode_bytes(chunk, charset))
    return "".join(out)


def _header(message: Message, name: str) -> str:
    return " ".join(decode_header_value(message.get(name)).split())


# --- HTML to text ----------------------------------------------------------------------------

_BLOCK_TAGS = frozenset({
    "p", "div", "tr", "li", "ul", "ol", "dl", "dt", "dd", "table", "blockquote", "pre", "hr",
    "h1", "h2", "h3", "h4", "h5", "h6", "section", "article", "header", "footer", "address",
})
_SKIPPED_TAGS = frozenset({"script", "style", "head", "title", "template"})
_SPACES = re.compile(r"[ \t\r\f\v\u00a0\u3000]+")
_WHITESPACE = re.compile(r"\s+")


class _HtmlText(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0
        self.pre = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIPPED_TAGS:
            self.skipping += 1
        elif tag == "br":
            self.parts.append("\n")
        elif tag in _BLOCK_TAGS:
            self.pre += tag == "pre"
            self.parts.append("\n")
        elif tag in ("td", "th"):
            self.parts.append(" ")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("br", "hr") or tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED_TAGS:
            self.skipping = max(0, self.skipping - 1)
        elif tag in _BLOCK_TAGS:
            self.pre = max(0, self.pre - (tag == "pre"))
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(data if self.pre else _WHITESPACE.sub(" ", data))


def html_to_text(html: str) -> str:
    """The readable text of an HTML body: blocks on their own lines, no scripts or styles."""
    parser = _HtmlText()
    parser.feed(html)
    parser.close()
    # Block tags mark lines; HTML has no blank lines of its own (paragraph spacing is style).
    return tidy_lines("".join(parser.parts), blank_lines=False)


def tidy_lines(text: str, *, blank_lines: bool = True) -> str:
    """Trim every line and keep at most one blank line in a row (or none)."""
    lines: list[str] = []
    for raw in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        line = _SPACES.sub(" ", raw).strip()
        if line or (blank_lines and lines and lines[-1]):
            lines.append(line)
    return "\n".join(lines).strip()


# --- the message -----------------------------------------------------------------------------

def _param(part: Message, name: str, header: str) -> str | None:
    value: Any = part.get_param(name, header=header)
    if value is None:
        return None
    if isinstance(value, tuple):  # RFC 2231: (charset, language, %-decoded value)
        charset, _, raw = value
        return decode_bytes(bytes(raw, "raw-unicode-escape"), charset or None)
    return decode_header_value(email.utils.unquote(str(value)))


def _filename(part: Message) -> str | None:
    name = (_param(part, "filename", "content-disposition")
            or _param(part, "name", "content-type"))
    name = " ".join(name.split()) if name else None
    return name or None


def _disposition(part: Message) -> str | None:
    value = part.get("Content-Disposition")
    if value is None:
        return None
    return str(value).split(";", 1)[0].strip().lower() or None


class _Parts:
    def __init__(self) -> None:
        self.plain: list[str] = []
        self.html: list[str] = []
        self.files: list[InboundFile] = []

    def walk(self, part: Message) -> None:
        content_type = part.get_content_type()
        if content_type == "message/rfc822":
            inner = part.get_payload()
            decoded = part.get_payload(decode=True)
            data = decoded if isinstance(decoded, bytes) else b""
            if isinstance(inner, list) and inner and isinstance(inner[0], Message):
                data = inner[0].as_bytes()
            self._file(part, data, default_name="forwarded-message.eml")
            return
        if part.is_multipart():
            children = part.get_payload()
            assert isinstance(children, list)
            for child in children:
                if isinstance(child, Message):
                    self.walk(child)
            return
        decoded = part.get_payload(decode=True)
        payload = decoded if isinstance(decoded, bytes) else b""
        filename = _filename(part)
        if (content_type in ("text/plain", "text/html") and filename is None
                and _disposition(part) != "attachment"):
            text = decode_bytes(payload, part.get_content_charset())
            (self.plain if content_type == "text/plain" else self.html).append(text)
            return
        self._file(part, payload, default_name=None)

    def _file(self, part: Message, data: bytes, *, default_name: str | None) -> None:
        content_type = part.get_content_type()
        name = _filename(part) or default_name
        if name is None:
            extension = mimetypes.guess_extension(content_type) or ".bin"
            name = f"attachment-{len(self.files) + 1}{extension}"
        self.files.append(InboundFile(filename=name, content_type=content_type, data=data))

    def body(self) -> str:
        if any(p.strip() for p in self.plain):
            return tidy_lines("\n\n".join(self.plain))
        return tidy_lines("\n\n".join(html_to_text(h) for h in self.html))


def sender_of(message: Message, envelope_sender: str | None = None) -> tuple[str | None,
                                                                             str | None]:
    """(address, display name) of the sender: the From header, else the envelope sender."""
    raw = message.get("From")
    if raw is not None:
        # Encoded words stay atoms for the address parser; raw 8-bit text is decoded first.
        text = _unescape_8bit(raw) if isinstance(raw, str) else decode_header_value(raw)
        addresses = email.utils.getaddresses([text])
        if addresses:
            name, address = addresses[0]
            if "@" in address:
                return _clean_address(address), decode_header_value(name).strip() or None
    if envelope_sender and "@" in envelope_sender:
        return _clean_address(envelope_sender), None
    return None, None


def _clean_address(address: str) -> str:
    user, _, domain = address.strip().strip("<>").rpartition("@")
    return f"{user}@{domain.lower()}"


def _received_at(message: Message, notes: list[dict[str, Any]]) -> datetime | None:
    raw = message.get("Date")
    if raw is None:
        return None
    try:
        moment = email.utils.parsedate_to_datetime(str(raw))
    except (TypeError, ValueError, IndexError, OverflowError):
        notes.append({"note": "the Date header could not be read; the arrival time is used"})
        return None
    if moment.tzinfo is None:  # "-0000": the zone is unknown (RFC 5322 3.3); read it as UTC
        moment = moment.replace(tzinfo=UTC)
    if moment > utcnow() + FUTURE_TOLERANCE:
        notes.append({"note": "the Date header is in the future; the arrival time is used"})
        return None
    return moment


def message_id(message: Message) -> str | None:
    """The Message-ID without its angle brackets; a long one by its hash."""
    raw = _header(message, "Message-ID").strip().strip("<>").strip()
    if not raw or not raw.isascii() or not raw.isprintable() or " " in raw:
        return None
    if len(raw) > MAX_SOURCE_ID:
        return "mid-sha256:" + hashlib.sha256(raw.encode()).hexdigest()
    return raw


def _content_id(parts: list[str], files: list[InboundFile]) -> str:
    digest = hashlib.sha256()
    for value in parts:
        digest.update(value.encode("utf-8", "surrogateescape") + b"\x00")
    for item in files:
        digest.update(hashlib.sha256(item.data).digest())
    return "content-sha256:" + digest.hexdigest()[:48]


# The longest customer name the case schema takes (`CaseCreate.customer_name`).
NAME_MAX = 100


def parse_domains(spec: str) -> frozenset[str]:
    """"bank.example, kf.bank.example" -> the set of lower-case domains."""
    return frozenset(d.strip().lower().rstrip(".") for d in spec.split(",") if d.strip())


def from_own_domain(address: str | None) -> bool:
    """Whether the address is in (or under) one of the bank's own mail domains."""
    if not address:
        return False
    domain = address.rpartition("@")[2].strip().lower().rstrip(".")
    own = parse_domains(get_settings().inbound_mail_domains)
    return any(domain == d or domain.endswith("." + d) for d in own)


def parse_email(raw: bytes, *, envelope_sender: str | None = None) -> InboundMessage:
    """Read one message; raises `Invalid` for a message with neither text nor attachments."""
    return _read(email.message_from_bytes(raw), raw, envelope_sender=envelope_sender)


def _read(message: Message, raw: bytes, *, envelope_sender: str | None,
          allow_empty: bool = False) -> InboundMessage:
    parts = _Parts()
    parts.walk(message)
    notes: list[dict[str, Any]] = []
    subject = _header(message, "Subject")
    body = parts.body()
    address, name = sender_of(message, envelope_sender)
    received_at = _received_at(message, notes)
    text = "\n\n".join(p for p in (subject, body) if p)
    if not text:
        if not parts.files and not allow_empty:
            raise Invalid("the message has no text and no attachment", field="body")
        text = NO_TEXT
    limit = get_settings().text_max_chars
    if len(text) > limit:
        text = text[: limit - len(CUT_MARK)] + CUT_MARK
        parts.files.append(InboundFile(ORIGINAL_NAME, "message/rfc822", raw))
        notes.append({"note": f"the text was cut at {limit} characters; the whole message is "
                              f"kept as {ORIGINAL_NAME}"})
    source_id = message_id(message) or _content_id(
        [address or "", _header(message, "Date"), subject, body], parts.files)
    customer_email = (masking.normalise_email(address)
                      if address and not from_own_domain(address) else None)
    if customer_email is not None and not masking.valid_email(customer_email):
        customer_email = None  # still kept as the contact; just not an identity
    return InboundMessage(
        channel=Channel.email, source_system=SOURCE_SYSTEM, source_id=source_id, text=text,
        title=subject[:200] or None, received_at=received_at, contact=address,
        contact_kind=CONTACT_EMAIL if address else None, contact_name=name,
        customer_email=customer_email,
        # A new customer known by the address is named as the sender names themself.
        customer_name=(name[:NAME_MAX].strip() or None) if customer_email and name else None,
        attachments=parts.files, notes=notes)


def register_email(
    session: Session,
    *,
    actor: Actor,
    raw: bytes,
    envelope_sender: str | None = None,
) -> Receipt:
    """Register one e-mail as a case, in the caller's unit of work (idempotent on Message-ID);
    or keep it as ignored (no person wrote it) or held (its sender floods), with the reason in
    the receipt. Neither of those is answered."""
    parsed = email.message_from_bytes(raw)
    reason = automatic_reason(parsed, envelope_sender=envelope_sender,
                              subject=_header(parsed, "Subject"))
    message = _read(parsed, raw, envelope_sender=envelope_sender,
                    allow_empty=reason is not None)
    earlier = earlier_receipt(session, source_system=message.source_system,
                              source_id=message.source_id)
    if earlier is None:  # never seen: no person wrote it, or its sender floods?
        if reason is not None:
            return record_unregistered(session, message=message,
                                       status=MessageStatus.ignored, reason=reason)
        held = (None if from_own_domain(message.contact)  # staff forwarding complaints
                else flood_reason(session, message=message))
        if held is not None:
            return record_unregistered(session, message=message, status=MessageStatus.held,
                                       reason=held)
    elif earlier.outcome != MessageStatus.case:
        return earlier  # ignored or held before: the same again
    return register_inbound(session, actor=actor, message=message, field_names=FIELD_NAMES)
