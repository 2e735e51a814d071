"""``Sandbox.hidden_entities``: a published entity this server withholds answers as an unknown one."""

from __future__ import annotations

from autotask_magic.sandbox import Sandbox
from tests._support.sandbox_http import ALL, api_user_http


def test_a_hidden_entity_is_unknown_at_the_top_level_and_under_a_parent(sandbox_factory: object) -> None:
    sb: Sandbox = sandbox_factory(tickets=50, hidden_entities={"Contacts"})  # type: ignore[operator]
    with api_user_http(sb) as c:
        r = c.post("Contacts/query", json={"filter": ALL})
        assert r.status_code == 404 and r.json() == {"errors": ["Entity 'Contacts' does not exist."]}
        assert c.get("Contacts/entityInformation/fields").status_code == 404
        company = sb.store["Companies"].ids[0]
        assert c.get(f"Companies/{company}/Contacts").status_code == 404
        assert c.get(f"Companies/{company}").status_code == 200  # the rest is served as usual
        sb.hidden_entities = frozenset()  # a live setting
        assert c.post("Contacts/query/count", json={"filter": ALL}).status_code == 200
