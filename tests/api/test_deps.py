"""The client's address behind trusted proxies (`api.deps.client_address`)."""

from __future__ import annotations

import pytest
from starlette.requests import Request

from bankvoc.api.deps import client_address
from bankvoc.core.settings import reset_settings


def request(peer: str, *forwarded: str) -> Request:
    headers = [(b"x-forwarded-for", value.encode()) for value in forwarded]
    return Request({"type": "http", "method": "GET", "path": "/", "headers": headers,
                    "client": (peer, 5000), "query_string": b""})


@pytest.fixture
def trusted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BANKVOC_TRUSTED_PROXIES", "10.0.0.0/8, 192.168.1.5")
    reset_settings()


class TestClientAddress:
    def test_without_trusted_proxies_the_header_is_ignored(self) -> None:
        assert client_address(request("10.0.0.2", "203.0.113.9")) == "10.0.0.2"

    @pytest.mark.usefixtures("trusted")
    def test_a_trusted_proxy_is_believed(self) -> None:
        assert client_address(request("10.0.0.2", "203.0.113.9")) == "203.0.113.9"

    @pytest.mark.usefixtures("trusted")
    def test_an_untrusted_peer_is_not(self) -> None:
        assert client_address(request("198.51.100.7", "203.0.113.9")) == "198.51.100.7"

    @pytest.mark.usefixtures("trusted")
    def test_what_the_client_prepended_is_not_believed(self) -> None:
        forged = request("10.0.0.2", "1.2.3.4, 203.0.113.9, 192.168.1.5")
        assert client_address(forged) == "203.0.113.9"

    @pytest.mark.usefixtures("trusted")
    def test_several_headers_are_read_as_one_list(self) -> None:
        assert client_address(request("10.0.0.2", "203.0.113.9", "10.1.1.1")) == "203.0.113.9"

    @pytest.mark.usefixtures("trusted")
    def test_garbage_stops_at_the_last_trusted_hop(self) -> None:
        assert client_address(request("10.0.0.2", "not-an-ip, 10.3.3.3")) == "10.3.3.3"

    @pytest.mark.usefixtures("trusted")
    def test_no_header_is_the_peer(self) -> None:
        assert client_address(request("10.0.0.2")) == "10.0.0.2"

    def test_a_bad_network_in_the_setting_names_it(self,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
        from bankvoc.core.settings import get_settings

        monkeypatch.setenv("BANKVOC_TRUSTED_PROXIES", "10.0.0.0/8,proxy.example")
        reset_settings()
        with pytest.raises(ValueError, match=r"proxy\.example"):
            get_settings()
