"""Send a request from the main thread on a helper thread, so Ctrl-C never lands inside httpcore."""

from __future__ import annotations

import threading
from concurrent.futures import Future
from typing import Any

import httpx

__all__ = ["request_off_main"]


def request_off_main(http: httpx.Client, method: str, url: str, **kw: Any) -> httpx.Response:
    """One httpx request; from the main thread it is sent by a helper thread, the main thread only waiting.

    Ctrl-C raises KeyboardInterrupt on the main thread wherever it happens to be: inside httpcore,
    just after its connection pool (or a connection) took its lock and before the ``with`` that
    releases it was set up, it left that lock held for good, and every later request of the client
    (or token fetch of the manager) hung. Interrupted, the main thread raises at once; the helper
    finishes or fails its request (token fetch included), releases the endpoint slot and ends.
    """
    if threading.current_thread() is not threading.main_thread():
        return http.request(method, url, **kw)
    done: Future[httpx.Response] = Future()

    def send() -> None:
        try:
            done.set_result(http.request(method, url, **kw))
        except BaseException as exc:  # raised on the main thread by done.result()
            done.set_exception(exc)

    helper = threading.Thread(target=send, name="autotask-request", daemon=True)
    helper.start()
    try:
        return done.result()
    finally:
        if done.done():  # it has handed its outcome over and is ending: no thread outlives the call
            helper.join()
