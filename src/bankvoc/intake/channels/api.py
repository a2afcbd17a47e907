"""Channel routes: the signed webhook (`channels.webhook` documents it) and the mention list."""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request, Response
from fastapi.routing import APIRoute
from sqlalchemy.exc import IntegrityError

from bankvoc.api.deps import CurrentActor, DbSession
from bankvoc.api.schemas import errors
from bankvoc.core.errors import BankvocError, Conflict, Invalid
from bankvoc.core.settings import get_settings
from bankvoc.intake.channels import mentions, webhook
from bankvoc.intake.channels.schemas import (
    ChannelMessageIn,
    ChannelReceipt,
    MentionPage,
    MentionRead,
    WebhookChannel,
)
from bankvoc.intake.channels.service import channel_actor


class SignedRoute(APIRoute):
    """Checks the channel's signature over the raw body before anything parses it, so an
    unsigned request learns nothing (401) and a signed one with bad JSON gets a 422."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def signed(request: Request) -> Response:
            channel = webhook.channel_of(str(request.path_params.get("channel", "")))
            limit = get_settings().channel_max_body_bytes
            declared = request.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > limit:
                raise BankvocError(f"body is larger than {limit} bytes", code="too_large",
                                   field="body", status=413)
            body = await request.body()
            if len(body) > limit:
                raise BankvocError(f"body is larger than {limit} bytes", code="too_large",
                                   field="body", status=413)
            webhook.verify(channel, request.headers, body)
            try:
                json.loads(body)
            except json.JSONDecodeError as exc:
                raise Invalid(f"body: not JSON ({exc.msg} at character {exc.pos})",
                              field="body") from None
            except ValueError:
                raise Invalid("body: not UTF-8 JSON", field="body") from None
            return await handler(request)

        return signed


router = APIRouter(prefix="/channels", tags=["channels"])
signed_router = APIRouter(route_class=SignedRoute)


@signed_router.post(
    "/{channel}/messages", response_model=ChannelReceipt, status_code=201,
    responses={200: {"model": ChannelReceipt, "description": "the message id was known"},
               **errors(401, 404, 409, 413, 422, 503)},
)
def receive_message(
    channel: WebhookChannel,
    message: ChannelMessageIn,
    response: Response,
    session: DbSession,
    # Checked by SignedRoute before the body is parsed; declared here for the OpenAPI spec.
    signature: Annotated[str, Header(alias=webhook.SIGNATURE_HEADER,
                                     description="sha256=<hex HMAC-SHA256 of timestamp.body>")],
    timestamp: Annotated[str, Header(alias=webhook.TIMESTAMP_HEADER,
                                     description="Unix seconds; within ±5 minutes of ours")],
) -> ChannelReceipt:
    """A message from WeChat, the online chat or social-media monitoring, signed with the
    channel's secret. WeChat and chat messages become cases; social posts become monitored
    mentions, and cases only when they are complaints. Idempotent on `id`."""
    actor = channel_actor(session)
    try:
        receipt, created = webhook.receive(session, actor=actor, channel=channel,
                                           message=message)
    except IntegrityError:
        # The same message id being stored by a concurrent request: a retry finds it.
        raise Conflict("this message is being stored by another request; retry",
                       field="id") from None
    if not created:
        response.status_code = 200
    return receipt


router.include_router(signed_router)


@router.get("/mentions", response_model=MentionPage, responses=errors(401, 403, 422, 503))
def list_mentions(
    session: DbSession,
    actor: CurrentActor,
    is_complaint: bool | None = None,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=mentions.MAX_PAGE)] = 50,
) -> MentionPage:
    """Monitored social-media mentions, newest first (text and author masked)."""
    if cursor is not None and not cursor.isdigit():
        raise Invalid("malformed cursor", field="cursor")
    owner = channel_actor(session)
    rows = mentions.list_mentions(session, actor=actor, owner_org_id=owner.org_id,
                                  is_complaint=is_complaint,
                                  before_id=int(cursor) if cursor else None, limit=limit)
    items = [MentionRead(
        id=r.mention.id, channel=r.mention.channel, source_id=r.mention.source_id,
        author=r.mention.author, url=r.mention.url, text_masked=r.mention.text_masked,
        sentiment=r.mention.sentiment, is_complaint=r.mention.is_complaint,
        reason=r.mention.reason, reference=r.reference, received_at=r.mention.received_at)
        for r in rows]
    next_cursor = str(items[-1].id) if len(items) == limit else None
    return MentionPage(items=items, next_cursor=next_cursor)
