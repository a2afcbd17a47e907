"""Request-scoped dependencies: units of work at once, the client's address behind proxies."""

from __future__ import annotations

import asyncio

import httpx2
import pytest
from anyio import to_thread
from starlette.requests import Request

from bankvoc.api.app import create_app
from bankvoc.api.deps import client_address
from bankvoc.core.db import build_engine, unit_of_work
from bankvoc.core.settings import reset_settings
from tests.conftest import auth, build_world


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


class TestUnitsOfWorkAtOnce:
    """Requests beyond the pool's connections wait for one, holding no worker thread."""

    def test_more_requests_than_connections_and_threads_are_all_answered(
        self, fresh_db_url: str
    ) -> None:
        # One connection, which gives up after 3 s, and two worker threads: without the gate,
        # the waiting requests held both threads and the one holding the connection could not
        # run its route, so the waiters failed when the pool gave up (503).
        engine = build_engine(fresh_db_url, pool_size=1, max_overflow=0, pool_timeout=3)
        with unit_of_work(engine) as session:
            world = build_world(session)
            headers = auth(world, "hq_admin")
        app = create_app(engine=engine)

        async def eight_at_once() -> list[int]:
            to_thread.current_default_thread_limiter().total_tokens = 2
            transport = httpx2.ASGITransport(app=app)
            async with httpx2.AsyncClient(transport=transport, base_url="http://bank") as client:
                answers = await asyncio.gather(*(
                    client.get("/api/v1/cases", headers=headers) for _ in range(8)))
            return [answer.status_code for answer in answers]

        try:
            assert asyncio.run(eight_at_once()) == [200] * 8
        finally:
            engine.dispose()
