"""Fault tests (issue 9): processes killed with SIGKILL and PostgreSQL restarted under load,
each followed by counts proving that nothing was lost or stored twice and that every
notification went out exactly once.

- test_import_killed: `bankvoc import FILE` killed half way and run again (SQLite, PostgreSQL).
- test_api_killed: `bankvoc serve` killed mid-stream of registrations; callers retry.
- test_postgres_restart: the throwaway cluster restarted under API traffic and the dispatcher,
  under an import, and between a message's send and its record.

They start their own servers (servers.py: `throwaway_postgres()`, `throwaway_redis()`), never
the machine's, and skip when initdb / redis-server are not installed. An outage lasts
BANKVOC_TEST_OUTAGE_SECONDS (default 2); set it longer to soak a restart.
"""
