"""The API's docs page in Debian's chromium: our own files only, the CSP kept, a live call."""

import pytest

from tests.browser import chromium

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_docs_page_lists_the_endpoints_and_tries_one_from_our_own_files(live_server, catalog):
    requests, problems = [], []
    with chromium() as browser:
        context = browser.new_context(bypass_csp=False)
        page = context.new_page()
        page.on("request", lambda request: requests.append(request.url))
        page.on("pageerror", lambda error: problems.append(str(error)))
        page.on(
            "console",
            lambda message: problems.append(message.text) if message.type == "error" else None,
        )
        page.goto(live_server.url + "/api/v1/docs")
        page.wait_for_selector(".opblock-summary-path", timeout=20_000)
        paths = page.locator(".opblock-summary-path").all_inner_texts()
        assert "/api/v1/tools" in paths and "/api/v1/changes" in paths
        # Try GET /api/v1/tools from the page, as a reader exploring the API would.
        page.locator("#operations-read-shipwith_api_reads_tools .opblock-summary").click()
        page.get_by_role("button", name="Try it out").click()
        page.get_by_role("button", name="Execute").click()
        response = page.locator(".live-responses-table tbody .response-col_status").first
        response.wait_for(timeout=20_000)
        assert response.inner_text().strip().startswith("200")
        assert '"slug": "ollama"' in page.locator(".live-responses-table").inner_text()
        context.close()
    origin = live_server.url
    assert requests and all(url.startswith(origin) for url in requests), [
        url for url in requests if not url.startswith(origin)
    ]
    assert problems == []
