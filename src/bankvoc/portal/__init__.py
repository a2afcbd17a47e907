"""The customer's own page: file a complaint or suggestion, follow it with a one-time code."""
