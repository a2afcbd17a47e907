"""Telling people: templates, the notification outbox, its dispatcher and channel adapters."""
