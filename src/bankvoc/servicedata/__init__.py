"""Operational service data: outlet queue tickets, digital-channel availability and response,
process durations and digital-tool usage, with their monthly metrics against targets."""
