"""The webhook's JSON (see `channels.webhook` for the signing) and what it answers."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from bankvoc.customers import masking
from bankvoc.intake.schemas import TEXT_HARD_LIMIT


class WebhookChannel(StrEnum):
    """Who may post to `/channels/{channel}/messages`: each has its own secret."""

    wechat = "wechat"  # the WeChat official account (公众号) platform
    chat = "chat"  # the website / app online chat
    social = "social"  # the social-media monitoring service


class ChannelCustomer(BaseModel):
    """Who the customer says they are, when the channel knows (e.g. a bound account)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str | None = Field(default=None, max_length=100)
    phone: str | None = Field(default=None, max_length=40,
                              description="Mainland mobile or landline number")

    # Checked here, not only when a case is made of the message: a social post that stays a
    # mention is refused for a bad phone too. The rule is intake's (customers.masking).
    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        return masking.clean_phone(value) if value else None


class ChannelAttachment(BaseModel):
    """A file sent with the message (a screenshot, a receipt), base64-encoded."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    filename: str = Field(min_length=1, max_length=255)
    content_type: str = Field(default="application/octet-stream", max_length=100)
    data: bytes = Field(alias="base64", description="The file's bytes, base64 (RFC 4648)",
                        json_schema_extra={"type": "string", "format": "base64"})

    @field_validator("data", mode="before")
    @classmethod
    def _decode(cls, value: Any) -> bytes:
        if not isinstance(value, str):
            raise ValueError("must be a base64 string")
        try:
            return base64.b64decode("".join(value.split()), validate=True)
        except (binascii.Error, ValueError):
            raise ValueError("is not valid base64") from None


class ChannelMessageIn(BaseModel):
    """One message from a channel: a WeChat or chat message from a customer, or a social-media
    post about the bank. `id` is the channel's message id: sending it again changes nothing."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    id: str = Field(min_length=1, max_length=128,
                    description="The channel's message id (unique per channel); idempotency key")
    sent_at: datetime = Field(description="When it was sent (ISO 8601; local time if no zone)")
    channel_user: str = Field(min_length=1, max_length=128,
                              description="The channel's opaque id of the sender (e.g. openid)")
    customer: ChannelCustomer | None = None
    text: str = Field(min_length=1, max_length=TEXT_HARD_LIMIT)
    attachments: list[ChannelAttachment] = Field(default_factory=list, max_length=20)
    url: str | None = Field(default=None, max_length=1000,
                            description="Link to the post (social mentions)")
    author: str | None = Field(default=None, max_length=100,
                               description="The post's author as the platform shows them")

    @field_validator("url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value and not value.lower().startswith(("https://", "http://")):
            raise ValueError("must be an http(s) URL")
        return value or None


class ChannelReceipt(BaseModel):
    """What became of the message."""

    id: str = Field(description="The message id as sent")
    outcome: str = Field(description="accepted | merged | updated | unchanged (a case), "
                                     "monitored (a social mention kept, not a complaint)")
    reference: str | None = Field(default=None, description="The case, when there is one")
    mention_id: int | None = Field(default=None, description="The monitored mention (social)")
    is_complaint: bool | None = Field(default=None, description="Social: the rule's verdict")
    attachments_added: int = 0
    attachments_refused: int = Field(default=0, description="Too large or empty: noted on "
                                                            "the case's timeline")


class MentionRead(BaseModel):
    id: int
    channel: str
    source_id: str
    author: str | None = Field(description="Masked")
    url: str | None
    text_masked: str
    sentiment: float
    is_complaint: bool
    reason: str
    reference: str | None = Field(description="The case it became, if any")
    received_at: datetime


class MentionPage(BaseModel):
    items: list[MentionRead]
    next_cursor: str | None = None
