"""What the tests of the directory's administration share."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from bankvoc.core.settings import get_settings
from bankvoc.orgs import auth
from bankvoc.orgs.errors import AccountLocked, LoginFailed


def lock_out(session: Session, username: str, *, client_ip: str = "10.0.0.9") -> None:
    """Fail `username`'s log-in until the account is locked."""
    for _ in range(get_settings().login_max_failures - 1):
        with pytest.raises(LoginFailed):
            auth.log_in(session, username=username, password="wrong-pass-1",
                        client_ip=client_ip)
    with pytest.raises(AccountLocked):
        auth.log_in(session, username=username, password="wrong-pass-1", client_ip=client_ip)
