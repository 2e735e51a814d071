"""``--tls``: a throwaway certificate authority and a certificate for 127.0.0.1 (the optional ``[tls]`` extra).

Some clients insist on an ``https`` zone URL. The CA is generated per sandbox with ``trustme`` and
written to a temporary PEM file, whose path clients are given (``REQUESTS_CA_BUNDLE``, ``SSL_CERT_FILE``
or httpx's ``verify=``); nothing is ever trusted system-wide and verification is never turned off.
"""

from __future__ import annotations

import atexit
import os
import ssl
import tempfile

__all__ = ["tls_context"]


def tls_context() -> tuple[ssl.SSLContext, str]:
    """A server SSL context for 127.0.0.1/localhost and the path of the CA's PEM file."""
    try:
        import trustme
    except ImportError:
        raise RuntimeError("the sandbox's TLS mode needs trustme: pip install 'autotask-magic[tls]'") from None
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(ctx)
    fd, path = tempfile.mkstemp(prefix="autotask-sandbox-ca-", suffix=".pem")
    with os.fdopen(fd, "wb") as f:
        f.write(ca.cert_pem.bytes())
    atexit.register(_remove, path)
    return ctx, path


def _remove(path: str) -> None:
    try:
        os.remove(path)
    except OSError:
        pass
