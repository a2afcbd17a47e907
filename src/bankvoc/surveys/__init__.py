"""Callbacks after resolution (回访) and standalone satisfaction surveys."""
