"""The content page: the calendar's cues, filters in the URL, Export and Import (#25)."""

from __future__ import annotations

import csv
import io
import json
import re
import uuid
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from digipersona.models import Post
from tests.conftest import Actor
from tests.publishing.bulk import counting, seed
from tests.web.test_shell import csrf_from, web_login

BERLIN = ZoneInfo("Europe/Berlin")
GOOD = (
    "persona,text,platforms\n"
    "Dana,Needle post on Bluesky,bluesky\n"
    "Dana,Hay post on the webhook,webhook\n"
)


def _posts(session_factory: Any) -> int:
    with session_factory() as s:
        return int(s.scalar(select(func.count()).select_from(Post)) or 0)


def _upload(client: Any, token: str, text: str | bytes, name: str = "posts.csv") -> Any:
    raw = text.encode() if isinstance(text, str) else text
    return client.post(
        "/content/import",
        data={"csrf_token": token},
        files={"file": (name, raw, "text/csv")},
        follow_redirects=False,
    )


def test_import_checks_then_confirms_and_refuses_bad_files(
    client: Any, owner: Actor, setup: dict[str, Any], session_factory: Any
) -> None:
    web_login(client, owner.email)
    token = csrf_from(client.get("/content").text)
    before = _posts(session_factory)

    # No CSRF token: refused, nothing read.
    r = client.post("/content/import", files={"file": ("p.csv", GOOD.encode(), "text/csv")})
    assert r.status_code == 403

    # A bad row: the dry run lists it by row and field, offers no import, creates nothing.
    bad = GOOD + "Nobody,Orphan post,webhook\n"
    report = _upload(client, token, bad)
    assert report.status_code == 200
    assert 'id="import-problems"' in report.text
    assert re.search(r"<td>3</td><td>persona</td><td>no persona named", report.text)
    assert 'name="confirm"' not in report.text
    assert _posts(session_factory) == before

    # Too big or not text: a clear message, nothing created.
    big = _upload(client, token, "persona,text,platforms\n" + "x" * 1_000_000)
    assert big.status_code == 303
    assert "split it" in client.get("/content").text
    binary = _upload(client, token, b"persona,text\n\xff\xfe\x00")
    assert binary.status_code == 303
    assert "not UTF-8" in client.get("/content").text
    assert _posts(session_factory) == before

    # A good file: the dry run says what it will do, the confirm step imports it.
    report = _upload(client, token, GOOD)
    assert "Import 2 drafts" in report.text
    assert _posts(session_factory) == before
    form = {
        "csrf_token": csrf_from(report.text),
        "confirm": "1",
        "filename": "posts.csv",
        "text": GOOD,
    }
    done = client.post("/content/import", data=form, follow_redirects=False)
    assert done.status_code == 303
    assert _posts(session_factory) == before + 2
    assert "Imported 2 drafts" in client.get(done.headers["location"]).text


def test_content_list_cues_filters_export_and_fixed_queries(
    app: Any, client: Any, owner: Actor, setup: dict[str, Any], session_factory: Any
) -> None:
    web_login(client, owner.email)
    token = csrf_from(client.get("/content").text)
    _upload(client, token, GOOD)  # the dry run
    form = {"csrf_token": token, "confirm": "1", "filename": "p.csv", "text": GOOD}
    assert client.post("/content/import", data=form, follow_redirects=False).status_code == 303
    persona_id = setup["persona"]["id"]
    at = datetime.combine(date.today() + timedelta(days=5), time(7, 45), BERLIN)
    seed(
        session_factory,
        owner.workspace_id,
        uuid.UUID(persona_id),
        uuid.UUID(setup["connections"]["webhook"]),
        [at],
        body="Scheduled seed post",
    )

    page = client.get("/content").text
    # The calendar's cues: persona colour, platform icons, state, first words, the time (Berlin).
    assert "persona-dot" in page and "picon-bluesky" in page and "picon-webhook" in page
    assert "Scheduled seed post" in page and f"{at:%a %d %b} 07:45" in page

    # Filters live in the URL (a GET form): platform, persona, text, each selected again.
    params = {"persona_id": persona_id, "platform": "bluesky", "q": "needle"}
    filtered = client.get("/content", params=params).text
    assert "Needle post on Bluesky" in filtered
    assert "Hay post" not in filtered and "Scheduled seed post" not in filtered
    assert '<option value="bluesky" selected>' in filtered
    assert f'<option value="{persona_id}" selected>' in filtered
    assert 'value="needle"' in filtered
    # The export buttons carry the same filters; the export answers those posts only.
    link = re.search(r'href="(/content/export\?format=csv[^"]*)"', filtered)
    assert link
    url = link.group(1).replace("&amp;", "&")
    assert "platform=bluesky" in url and "q=needle" in url
    rows = list(csv.DictReader(io.StringIO(client.get(url).text)))
    assert [r["text"] for r in rows] == ["Needle post on Bluesky"]
    as_json = client.get(url.replace("format=csv", "format=json"))
    assert as_json.headers["content-type"].startswith("application/json")
    assert [r["text"] for r in json.loads(as_json.text)] == ["Needle post on Bluesky"]

    # The page reads a fixed number of times however many posts it lists.
    def queries() -> int:
        with counting(app.state.engine) as statements:
            assert client.get("/content").status_code == 200
        return len(statements)

    few = queries()
    seed(
        session_factory,
        owner.workspace_id,
        uuid.UUID(persona_id),
        uuid.UUID(setup["connections"]["webhook"]),
        [at + timedelta(hours=i) for i in range(30)],
    )
    assert queries() == few
