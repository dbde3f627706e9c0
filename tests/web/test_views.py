"""Dashboard tabs: links in a labelled navigation, the current one marked, the panel named by it."""

from __future__ import annotations

import re
from typing import Any

from tests.conftest import Actor
from tests.web.test_shell import web_login


def test_dashboard_tabs_markup(client: Any, owner: Actor) -> None:
    web_login(client, owner.email)
    for tab in ("content", "interactions", "analytics"):
        page = client.get("/dashboard", params={"tab": tab})
        assert page.status_code == 200, page.text
        nav = re.search(
            r'<nav class="tabs" aria-label="Dashboard sections">(.*?)</nav>', page.text, re.S
        )
        assert nav, "no dashboard tab navigation"
        links = re.findall(r'<a id="tab-(\w+)" href="/dashboard\?tab=\1"\s*([^>]*)>', nav.group(1))
        assert [name for name, _ in links] == ["content", "interactions", "analytics"]
        assert [name for name, attrs in links if 'aria-current="page"' in attrs] == [tab]
        assert f'id="dashboard-panel" class="tabpanel" aria-labelledby="tab-{tab}"' in page.text
        # No ARIA tablist: these are links to pages, and arrow keys are not promised.
        assert 'role="tab' not in page.text
    # An unknown tab falls back to Content.
    page = client.get("/dashboard", params={"tab": "nope"})
    assert page.status_code == 200 and 'aria-labelledby="tab-content"' in page.text
