"""Certificate verification: always on; a self-signed (trustme) certificate is rejected by default, accepted with a CA bundle."""

from __future__ import annotations

import http.server
import json
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

trustme = pytest.importorskip("trustme")

from autotask_magic import TransportError  # noqa: E402
from autotask_magic.client._client import AutotaskClient  # noqa: E402
from autotask_magic.client._credentials import OAuthCredentials  # noqa: E402
from autotask_magic.client._settings import make_ssl_context  # noqa: E402


class _Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass

    def _reply(self, payload: dict) -> None:
        body = json.dumps(payload).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path.endswith("/oauth/token"):
            self._reply({"access_token": "tls-token-abcdefgh", "token_type": "Bearer", "expires_in": 3600})
        else:
            self._reply({"queryCount": 42})


@pytest.fixture()
def https_server(tmp_path) -> Iterator[tuple[str, str]]:
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    cert.configure_cert(ctx)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}", str(bundle)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def _client(root: str, ca_bundle: str | None) -> AutotaskClient:
    client = AutotaskClient(
        OAuthCredentials("tls-client-id-0001", "tls-secret-0001"),
        base_url=root + "/ATServicesRest/V1.0/",
        token_url=root + "/ATServicesRest/oauth/token",
        ca_bundle=ca_bundle,
        timeout=5,
    )
    client.retry.sleep = lambda s: None
    return client


def test_self_signed_rejected_by_default(https_server) -> None:
    root, _ = https_server
    with _client(root, None) as client, pytest.raises(TransportError) as info:
        client.count("Tickets")
    assert "certificate verification failed" in str(info.value) and "AUTOTASK_CA_BUNDLE" in str(info.value)


def test_self_signed_accepted_with_ca_bundle(https_server) -> None:
    root, bundle = https_server
    with _client(root, bundle) as client:
        assert client.count("Tickets") == 42


def test_ca_bundle_from_env(https_server) -> None:
    root, bundle = https_server
    env = {
        "AUTOTASK_CLIENT_ID": "tls-client-id-0001",
        "AUTOTASK_CLIENT_SECRET": "tls-secret-0001",
        "AUTOTASK_BASE_URL": root + "/ATServicesRest/V1.0/",
        "AUTOTASK_TOKEN_URL": root + "/ATServicesRest/oauth/token",
        "AUTOTASK_CA_BUNDLE": bundle,
    }
    with AutotaskClient.from_env(env) as client:
        assert client.count("Tickets") == 42


def test_verification_always_on_and_bundle_adds_to_default_roots(tmp_path: Path) -> None:
    ca = trustme.CA()
    pem = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(pem))
    default = make_ssl_context()
    with_bundle = make_ssl_context(str(pem))
    for ctx in (default, with_bundle):
        assert ctx.verify_mode == ssl.CERT_REQUIRED and ctx.check_hostname
    # Decision: AUTOTASK_CA_BUNDLE adds a private CA; the public roots stay trusted (webservices*.autotask.net).
    assert default.cert_store_stats()["x509_ca"] > 0
    assert with_bundle.cert_store_stats()["x509_ca"] == default.cert_store_stats()["x509_ca"] + 1
