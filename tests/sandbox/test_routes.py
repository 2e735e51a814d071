"""The routing table: which status and message a request gets, in the order the real API checks things."""

from __future__ import annotations

import pytest

from autotask_magic.sandbox import Sandbox
from autotask_magic.sandbox._routes import ROUTES
from tests._support.sandbox_http import api_user_http

# (method, path under /V1.0/, status, start of the first error message or None)
CASES = [
    ("GET", "", 404, "No such resource."),
    ("POST", "ThresholdInformation", 405, "The requested resource does not support http method 'POST'."),
    ("GET", "ThresholdInformation/x", 404, "No such resource: x"),
    ("GET", "Nope/query", 404, "Entity 'Nope' does not exist."),
    ("GET", "Tickets", 405, "The requested resource does not support http method 'GET'."),
    ("DELETE", "Tickets/query", 405, "The requested resource does not support http method 'DELETE'."),
    ("GET", "Tickets/query", 500, "A query must have a search parameter with a filter."),
    ("GET", "Tickets/query/other", 404, "No such resource."),
    ("DELETE", "Tickets/query/other/deeper", 404, "No such resource."),
    # /query/next checks the paging parameter before the method
    ("DELETE", "Tickets/query/next", 500, "The paging parameter is missing."),
    ("DELETE", "Tickets/query/next?paging=x", 405, "The requested resource does not support http method 'DELETE'."),
    ("GET", "Tickets/query/next?paging=x", 405, "The requested resource does not support http method 'GET'."),
    # /entityInformation checks the method before the sub-path
    ("POST", "Tickets/entityInformation/bogus", 405, "The requested resource does not support http method 'POST'."),
    ("GET", "Tickets/entityInformation/bogus", 404, "No such resource."),
    ("GET", "Tickets/abc", 404, "No such resource: abc"),
    ("PATCH", "Tickets/10001", 405, "The requested resource does not support http method 'PATCH'."),
    # unpublished operations: 404 when the path publishes no method at all, else 405 (ASP.NET "Message")
    ("POST", "Tasks", 404, "No HTTP resource was found that matches the request URI"),
    ("POST", "Contacts", 404, "No HTTP resource was found that matches the request URI"),
    ("DELETE", "Tickets/10001", 405, "The requested resource does not support http method 'DELETE'."),
    ("PATCH", "Companies/174/Teams", 405, "The requested resource does not support http method 'PATCH'."),
    # child collections: child name, then parent record, then method
    ("DELETE", "Companies/174/Tickets", 404, "'Tickets' is not a child collection of Companies."),
    ("DELETE", "Companies/99999/Contacts", 404, "Company with id 99999 was not found."),
    ("DELETE", "Companies/174/Contacts", 405, "The requested resource does not support http method 'DELETE'."),
    ("GET", "Companies/174/Contacts/abc", 404, "No such resource: abc"),
    ("PATCH", "Companies/174/Contacts/1", 404, "Contact with id 1 was not found under Company 174."),
]


@pytest.mark.parametrize(("method", "path", "status", "message"), CASES)
def test_route_errors(sandbox: Sandbox, method: str, path: str, status: int, message: str) -> None:
    with api_user_http(sandbox) as c:
        r = c.request(method, path)
    assert r.status_code == status, r.text
    body = r.json()
    # The API's own errors are ``{"errors": [...]}``; ASP.NET's 404/405 answers are ``{"Message": ...}``.
    text = body["errors"][0] if "errors" in body else body["Message"]
    assert text.startswith(message)


def test_child_record_routes(sandbox: Sandbox) -> None:
    contact = next(r for r in sandbox.store["Contacts"].values() if r["companyID"] == 174)
    path = f"Companies/174/Contacts/{contact['id']}"
    with api_user_http(sandbox) as c:
        assert c.get(path).json() == {"item": sandbox.as_sent("Contacts", contact)}
        assert c.patch(path).status_code == 405  # the record exists, so the method is what is wrong
        extra = c.get(path + "/more")
        assert extra.status_code == 404
        assert extra.json()["errors"] == [f"Contact with id {contact['id']} was not found under Company 174."]


def test_every_route_names_real_handlers() -> None:
    shapes = [r.pattern for r in ROUTES]
    assert len(shapes) == len(set(shapes)), "a pattern is listed twice"
    for r in ROUTES:
        for method, handler in r.methods.items():
            assert method in ("GET", "POST", "PATCH", "PUT", "DELETE"), (r.pattern, method)
            assert callable(handler) and handler.__doc__, (r.pattern, method, handler)
