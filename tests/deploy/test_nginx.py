"""The shipped nginx config, for real: Debian's nginx on loopback in front of gunicorn.

A first-time reader signs up for the newsletter on a cached page, confirms from a fresh browser
and votes through the cache; a post from another site is refused. Cached pages go out as the
app rendered them: no per-reader token written in, no cookie set by nginx.
"""

import contextlib
import http.server
import re
import threading
from functools import partial

import httpx
import pytest
from aiosmtpd.controller import Controller

from tests.browser import chromium
from tests.deploy.nginx import free_port, needs_nginx, nginx
from tests.newsletter.conftest import Recorder
from tests.votes.live import live_site

pytestmark = [needs_nginx, pytest.mark.browser]

LINK = re.compile(r"https?://\S+/newsletter/confirm/\S+/")


@contextlib.contextmanager
def smtp() -> Recorder:
    recorder = Recorder()
    controller = Controller(recorder, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield recorder, controller.port
    finally:
        controller.stop()


@contextlib.contextmanager
def other_site(folder, html: str):
    """Another site (http://localhost:PORT/, cross-site to 127.0.0.1) serving one page."""
    (folder / "index.html").write_text(html)
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://localhost:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def deployment(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("deployment")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with smtp() as (mailbox, smtp_port):
        env = {
            "SHIPWITH_BASE_URL": base,
            "SHIPWITH_TRUSTED_PROXIES": "127.0.0.1",
            "SHIPWITH_VOTES_MIN": "1",
            "SHIPWITH_TASK_BACKEND": "django_tasks.backends.immediate.ImmediateBackend",
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(smtp_port),
        }
        with (
            live_site(tmp_path / "app", tools=2, workers=2, static=True, env=env) as site,
            nginx(
                tmp_path / "nginx",
                upstreams=[site.url.removeprefix("http://")],
                static_dir=tmp_path / "app" / "home" / "static",
                port=port,
            ) as url,
        ):
            yield site, url, mailbox


def test_a_first_visit_signs_up_confirms_and_votes_through_the_cache(deployment):
    site, url, mailbox = deployment
    with chromium() as browser:
        first = browser.new_context()
        page = first.new_page()
        response = page.goto(f"{url}/tools/tool-0/")
        assert response.status == 200
        page.get_by_label("Email address").fill("reader@example.com")
        page.get_by_role("button", name="Subscribe").click()
        page.get_by_role("heading", name="Check your inbox").wait_for()
        assert not any(c["name"] == "csrftoken" for c in first.cookies())
        first.close()

        [message] = mailbox.to("reader@example.com")
        link = LINK.search(message.get_body(("plain",)).get_content()).group(0)
        assert link.startswith(url)

        fresh = browser.new_context()  # the reader opens the link in another browser
        page = fresh.new_page()
        page.goto(link)
        page.get_by_role("button", name="Confirm subscription").click()
        page.get_by_role("heading", name="You're subscribed").wait_for()

        # The tool page again: now a copy from nginx's cache, the same bytes for everyone.
        response = page.goto(f"{url}/tools/tool-0/")
        assert response.headers["x-cache-status"] in ("HIT", "REVALIDATED")
        assert "set-cookie" not in response.headers
        page.get_by_role("button", name="Ship").click()
        page.get_by_text("Your vote: ship.").wait_for()
        fresh.close()

        no_script = browser.new_context(java_script_enabled=False)
        page = no_script.new_page()
        page.goto(f"{url}/tools/tool-0/")
        page.get_by_role("button", name="Skip").click()
        page.wait_for_url("**/tools/tool-0/?voted=tool-0#vote-tool-0")
        no_script.close()
    votes = "SELECT v.value FROM votes_vote v JOIN catalog_tool t ON t.id = v.tool_id"
    assert site.query(f"{votes} WHERE t.slug = 'tool-0' ORDER BY v.id") == [("ship",), ("skip",)]
    tally = "SELECT x.ships, x.skips FROM votes_tooltally x JOIN catalog_tool t ON t.id = x.tool_id"
    assert site.query(f"{tally} WHERE t.slug = 'tool-0'") == [(1, 1)]


def test_a_cross_site_post_is_refused(deployment, tmp_path):
    site, url, _ = deployment
    attack = (
        f'<form method="post" action="{url}/tools/tool-1/vote/">'
        '<input type="hidden" name="value" value="skip"><button>Win a prize</button></form>'
    )
    folder = tmp_path / "evil"
    folder.mkdir()
    with other_site(folder, attack) as evil, chromium() as browser:
        page = browser.new_page()
        page.goto(evil)
        with page.expect_navigation() as navigation:
            page.get_by_role("button", name="Win a prize").click()
        assert navigation.value.status == 403
    on_tool_1 = "SELECT COUNT(*) FROM votes_vote WHERE tool_id = (SELECT id FROM catalog_tool WHERE slug = 'tool-1')"
    assert site.query(on_tool_1) == [(0,)]
    # The same post without a browser's headers falls back to Django's token, and fails too.
    assert httpx.post(f"{url}/tools/tool-1/vote/", data={"value": "skip"}).status_code == 403
    assert site.query(on_tool_1) == [(0,)]
