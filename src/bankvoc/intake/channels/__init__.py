"""Channels in: every channel enters through the one intake pipeline.

`email` (with the `smtp_server` endpoint and the `imap` poller, both delivering through
`delivery`) and the signed `webhook` (WeChat, online chat, social media; `mentions` decides
which social posts are complaints) turn what they receive into an `InboundMessage`, and
`service.register_inbound` registers it as a case with its evidence and its sender. Mail no
person wrote (`autoreply`: auto-replies, bounces, list and bulk mail) is kept as ignored, and a
flooding sender's mail as held, never as cases and never answered.
"""
