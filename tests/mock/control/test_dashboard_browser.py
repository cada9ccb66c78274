"""The dashboard and the HTML reports in a real headless Chromium (Debian's `chromium`, via Playwright).

The mock runs as `mockserver serve` in its own process (in memory, and on Redis with two workers);
the Portkey Python SDK talks to it while the page is open. Nothing waits a fixed time: every check
polls with a deadline (Playwright's `expect`). `SCREENSHOTS=docs/images` writes the screenshots
the docs show; otherwise they go to the test's temporary folder, keeping the tree clean.
"""

from __future__ import annotations

import http.client
import io
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from portkey_ai import Portkey

from tests.support.inprocess import unique_prefix
from tests.support.paths import ROOT
from tests.support.served import ServedProcess
from tests.support.tools import require_module, require_tool

pytestmark = pytest.mark.slow  # starts servers or processes: not in the fast loop

playwright = require_module("playwright.sync_api", install='pip install -e ".[test]"')
expect = playwright.expect

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
LIVE_DEADLINE_MS = 2000
"""The dashboard must show a request within 2 s of it being answered."""
HOSTILE_NAME = "<img src=x onerror=alert(1)>"
HOSTILE_NOTE = "<script>alert('note')</script>"
PROVIDER_SECRET = "sk-dashboard-secret-0123456789"
API_KEY = "pk-dashboard-0123456789"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    require_tool(CHROMIUM, install="apt-get install chromium")
    with playwright.sync_playwright() as driver:
        chromium = driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


class Watched:
    """A page with everything it complained about: console errors, uncaught errors, dialogs."""

    def __init__(self, browser: Any, width: int = 1280, height: int = 800) -> None:
        self.context = browser.new_context(viewport={"width": width, "height": height})
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("dialog", self._dialog)

    def _dialog(self, dialog: Any) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def watched(browser: Any) -> Iterator[Watched]:
    page = Watched(browser)
    yield page
    page.close()


@pytest.fixture(params=["memory", "redis-2-workers"])
def served(request: pytest.FixtureRequest) -> Iterator[ServedProcess]:
    options: list[str] = ["--server", "waitress"]
    if request.param != "memory":
        redis_url = request.getfixturevalue("redis_url")
        options = ["--store", redis_url, "--redis-prefix", unique_prefix(), "--workers", "2"]
    server = ServedProcess(*options)
    yield server
    server.stop()


def screenshot_path(tmp_path: Path, name: str) -> Path:
    folder = os.environ.get("SCREENSHOTS")
    return (ROOT / folder if folder else tmp_path) / name


def send_hostile_request(root_url: str) -> None:
    """A request whose path, query, header and body all carry markup (the query's spaces encoded)."""
    address = urlsplit(root_url)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=10)
    body = f'{{"name": "{HOSTILE_NAME}", "provider": "openai", "<b>bold</b>": 1}}'
    connection.request(
        "PUT",
        "/v1/virtual-keys/<script>alert(1)"
        "?%3Cimg%20src%3Dx%20onerror%3Dalert(2)%3E=%3Csvg%20onload%3Dalert(3)%3E",
        body=body.encode(),
        headers={
            "x-portkey-api-key": API_KEY,
            "content-type": "application/json",
            "x-trace": "<img src=x onerror=alert(4)>",
        },
    )
    connection.getresponse().read()
    connection.close()


def test_the_dashboard_shows_sdk_calls_live_filters_opens_and_keeps_hostile_values_as_text(
    served: ServedProcess, watched: Watched, tmp_path: Path
):
    page = watched.page
    page.goto(f"{served.root_url}/__mock/")
    expect(page.locator("#live-status")).to_contain_text("Live", timeout=10_000)

    client = Portkey(api_key=API_KEY, base_url=served.base_url)
    client.virtual_keys.create(name=HOSTILE_NAME, provider="openai", key=PROVIDER_SECRET, note=HOSTILE_NOTE)
    rows = page.locator("#journal-rows tr")
    expect(rows).to_have_count(1, timeout=LIVE_DEADLINE_MS)  # live, no reload
    client.virtual_keys.list()
    send_hostile_request(served.root_url)
    expect(rows).to_have_count(3, timeout=LIVE_DEADLINE_MS)
    expect(rows.first).to_contain_text("PUT /v1/virtual-keys/<script>alert(1)")  # newest first

    # The store shows the key, its masked provider key, and the hostile name and note as text.
    store = page.locator("#store-workspaces")
    expect(store).to_contain_text(HOSTILE_NAME, timeout=LIVE_DEADLINE_MS)
    expect(store).to_contain_text(HOSTILE_NOTE)
    expect(store).to_contain_text("sk*****789")
    assert PROVIDER_SECRET not in page.content()

    # A filter narrows the list to the request that broke the contract.
    page.select_option("#filter-verdict", "violation")
    expect(rows).to_have_count(1)
    page.select_option("#filter-operation", "listVirtualKeys")
    expect(rows).to_have_count(0)
    page.select_option("#filter-operation", "")
    page.select_option("#filter-status", "2")
    expect(rows).to_have_count(0)
    page.select_option("#filter-status", "")

    # The entry opens from the keyboard and shows each violation, the masked request and its curl.
    rows.first.locator("button").focus()
    page.keyboard.press("Enter")
    entry = page.locator("#entry")
    expect(entry).to_be_visible()
    expect(page.locator("#entry-violations")).to_contain_text("body.<b>bold</b>")
    expect(page.locator("#entry-headers")).to_contain_text("<img src=x onerror=alert(4)>")
    expect(page.locator("#entry-headers")).to_contain_text("pk*****789")
    expect(page.locator("#entry-query")).to_contain_text("<svg onload=alert(3)>")
    expect(page.locator("#entry-body")).to_contain_text(HOSTILE_NAME)
    curl = page.locator("#entry-curl").inner_text()
    assert curl == (
        f"curl -X PUT '{served.root_url}/v1/virtual-keys/<script>alert(1)"
        "?%3Cimg+src%3Dx+onerror%3Dalert%282%29%3E=%3Csvg+onload%3Dalert%283%29%3E'"
        " -H 'content-type: application/json'"
        ' -H "x-portkey-api-key: $PORTKEY_API_KEY"'
        " -H 'x-trace: <img src=x onerror=alert(4)>'"
        f' --data \'{{"name":"{HOSTILE_NAME}","provider":"openai","<b>bold</b>":1}}\''
    )

    # Hostile values stayed text everywhere: no element was made of them, nothing ran.
    assert page.locator("img, svg, b, #journal script, #store script").count() == 0
    assert watched.dialogs == []
    page.select_option("#filter-verdict", "")
    expect(rows).to_have_count(3)
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=screenshot_path(tmp_path, "dashboard.png"), full_page=False)
    assert watched.errors == []


def test_the_curl_of_a_create_repeats_it_with_the_provider_key_as_a_placeholder(
    browser: Any, watched: Watched, tmp_path: Path
):
    server = ServedProcess("--server", "waitress")
    try:
        page = watched.page
        page.goto(f"{server.root_url}/__mock/")
        Portkey(api_key=API_KEY, base_url=server.base_url).virtual_keys.create(
            name="curl-me", provider="openai", key=PROVIDER_SECRET
        )
        page.locator("#journal-rows tr button").first.click(timeout=LIVE_DEADLINE_MS)
        curl = page.locator("#entry-curl").inner_text()
        assert curl.startswith(f"curl -X POST {server.root_url}/v1/virtual-keys -H")
        assert '-H "x-portkey-api-key: $PORTKEY_API_KEY"' in curl
        assert '"key":"<secret>"' in curl and PROVIDER_SECRET not in page.content()
        # A curl leaves out a credential header by the server's own rule, in any spelling.
        spellings = ["X-Apikey", "X-Session-Id", "Authentication", "x-portkey-api-key", "x-portkey-workspace"]
        assert page.evaluate(f"{spellings}.map(isSecretHeader)") == [True, True, True, True, False]

        # The same dashboard at a phone's width: one column, nothing wider than the screen.
        phone = Watched(browser, width=390, height=844)
        try:
            phone.page.goto(f"{server.root_url}/__mock/")
            phone.page.locator("#journal-rows tr button").first.click(timeout=LIVE_DEADLINE_MS)
            width = phone.page.evaluate("document.documentElement.scrollWidth")
            assert width <= 390
            phone.page.screenshot(path=screenshot_path(tmp_path, "dashboard-phone.png"), full_page=True)
            assert phone.errors == []
        finally:
            phone.close()
        assert watched.errors == []
    finally:
        server.stop()


def test_the_fault_form_sets_a_plan_the_api_applies_and_reset_clears_everything(
    served: ServedProcess, watched: Watched
):
    page = watched.page
    page.goto(f"{served.root_url}/__mock/")
    expect(page.locator("#live-status")).to_contain_text("Live", timeout=10_000)
    page.fill(
        "#fault-input", '{"seed": 7, "rules": [{"operation": "createVirtualKey", "status": 503, "times": 1}]}'
    )
    page.click("#fault-set")
    expect(page.locator("#fault-message")).to_have_text("Plan set.")
    expect(page.locator("#fault-seed")).to_have_text("7")

    headers = {"x-portkey-api-key": API_KEY}
    body = {"name": "faulty", "provider": "openai", "key": PROVIDER_SECRET}
    assert httpx.post(f"{served.base_url}/virtual-keys", json=body, headers=headers).status_code == 503
    assert httpx.post(f"{served.base_url}/virtual-keys", json=body, headers=headers).status_code == 200
    expect(page.locator("#fault-rows tr td").nth(2)).to_have_text("2", timeout=LIVE_DEADLINE_MS)

    page.fill("#fault-input", '{"rules": [{"status": 999}]}')
    page.click("#fault-set")
    expect(page.locator("#fault-message")).to_contain_text("400")

    page.click("#mock-reset")
    expect(page.locator("#journal-rows tr")).to_have_count(0, timeout=LIVE_DEADLINE_MS)
    expect(page.locator("#fault-none")).to_be_visible()
    assert httpx.get(f"{served.root_url}/__mock/faults").json() == {"rules": [], "rate_limits": []}
    # The one complaint: the browser logging the refused plan's 400, which the page showed as text.
    assert [e for e in watched.errors if "status of 400" not in e] == []


def test_a_locked_dashboard_asks_for_the_token_once_and_keeps_it_for_the_tab(watched: Watched):
    server = ServedProcess("--server", "waitress", "--control-token", "tab-token-123")
    try:
        page = watched.page
        page.goto(f"{server.root_url}/__mock/")
        expect(page.locator("#token-panel")).to_be_visible(timeout=10_000)
        page.fill("#token-input", "tab-token-123")
        page.keyboard.press("Enter")
        expect(page.locator("#live-status")).to_contain_text("Live", timeout=10_000)
        httpx.get(f"{server.base_url}/virtual-keys", headers={"x-portkey-api-key": API_KEY})
        expect(page.locator("#journal-rows tr")).to_have_count(1, timeout=LIVE_DEADLINE_MS)
        page.reload()
        expect(page.locator("#live-status")).to_contain_text("Live", timeout=10_000)
        assert page.locator("#token-panel").is_hidden()
        # Only the first, refused poll complained (a 401 the browser logs); nothing else did.
        assert all("401" in error for error in watched.errors)
    finally:
        server.stop()


def test_each_html_report_opens_and_shows_its_failures(watched: Watched, tmp_path: Path):
    from contracts.cli import main
    from contracts.verify import VerifyOptions, verify
    from mockserver import MockServer
    from mockserver.config import MockConfig
    from tests.support.broken_services import VARIANTS

    build, check = VARIANTS["secret echoed back"]
    broken = MockServer(build(MockConfig())).start()
    verify_report = tmp_path / "verify.html"
    try:
        result = verify(
            VerifyOptions(
                base_url=broken.base_url,
                api_key=API_KEY,
                max_examples=2,
                seed=1,
                phases=("examples", "lifecycle"),
                provider_cases=("openai",),
                html_report=verify_report,
            ),
            out=io.StringIO(),
        )
    finally:
        broken.stop()
    page = watched.page
    page.goto(verify_report.as_uri())
    expect(page.locator("#verdict")).to_contain_text("does NOT conform")
    expect(page.locator("#seed")).to_have_text("1")
    expect(page.locator("#run-id")).to_have_text(result.run_id)
    failures = page.locator("article.failure")
    expect(failures).to_have_count(len({(f.check, f.operation, f.message) for f in result.findings}))
    expect(page.locator("#checks")).to_contain_text(check)
    leak = failures.filter(has_text=check).first
    expect(leak).to_contain_text('"key": "<secret>"')
    expect(leak.locator("pre.curl")).to_contain_text("$PORTKEY_API_KEY")
    row = page.locator("#checks tbody tr", has_text=check)
    expect(row.locator("td").nth(1)).to_have_text("FAILED")
    expect(row.locator("td.num").nth(1)).to_have_text(str(result.checks_failed[check]))
    copies = leak.locator("button.copy").get_attribute("data-target")  # the curl its button copies
    expect(leak.locator(f"pre#{copies}")).to_contain_text("$PORTKEY_API_KEY")
    page.screenshot(path=screenshot_path(tmp_path, "report.png"), full_page=False)
    page.fill("#failure-search", check)
    expect(page.locator("article.failure:visible")).to_have_count(
        len({f.message for f in result.findings if f.check == check})
    )
    assert f"cvk{result.run_id}" not in page.content()

    mock = ServedProcess("--server", "waitress")
    traffic_report = tmp_path / "traffic.html"
    try:
        send_hostile_request(mock.root_url)
        assert main(["check-traffic", mock.root_url, "--html", str(traffic_report)]) == 1
    finally:
        mock.stop()
    page.goto(traffic_report.as_uri())
    expect(page.locator("#verdict")).to_have_text("1 of 1 requests break the contract")
    expect(page.locator("article.failure")).to_have_count(1)
    failure = page.locator("article.failure")
    expect(failure).to_contain_text("body.<b>bold</b>")
    expect(failure).to_contain_text("x-trace: <img src=x onerror=alert(4)>")
    expect(failure).to_contain_text("x-portkey-api-key: <secret>")
    copies = failure.locator("button.copy").get_attribute("data-target")
    expect(failure.locator(f"pre#{copies}")).to_contain_text("curl")
    expect(page.locator("#checks tbody td.bad")).not_to_have_count(0)
    assert page.locator("article img, article svg, article b").count() == 0
    assert watched.dialogs == [] and watched.errors == []
    assert re.search(r"pk-dashboard", page.content()) is None


def test_the_store_panel_shows_integrations_masked_with_hostile_values_as_text(
    served: ServedProcess, watched: Watched
):
    headers = {"x-portkey-api-key": API_KEY}
    body = {"name": HOSTILE_NAME, "ai_provider_id": "openai", "key": PROVIDER_SECRET}
    assert httpx.post(f"{served.base_url}/integrations", json=body, headers=headers).status_code == 200
    page = watched.page
    page.goto(f"{served.root_url}/__mock/")
    store = page.locator("#store-workspaces")
    expect(store).to_contain_text("Integrations of organisation", timeout=LIVE_DEADLINE_MS)
    expect(store).to_contain_text(HOSTILE_NAME)
    expect(store).to_contain_text("sk*****789")
    assert page.locator("#store img, #store script").count() == 0


def test_the_store_panel_shows_declared_resources_with_hostile_values_as_text(
    served: ServedProcess, watched: Watched
):
    headers = {"x-portkey-api-key": API_KEY}
    config = {"name": HOSTILE_NAME, "config": {"retry": {"attempts": 3}}}
    assert httpx.post(f"{served.base_url}/configs", json=config, headers=headers).status_code == 200
    page = watched.page
    page.goto(f"{served.root_url}/__mock/")
    store = page.locator("#store-workspaces")
    expect(store).to_contain_text("Resource config (1)", timeout=LIVE_DEADLINE_MS)
    expect(store.locator("td", has_text=HOSTILE_NAME)).to_have_count(1)
    assert page.locator("#store img, #store script").count() == 0
    assert PROVIDER_SECRET not in page.content()
    assert (watched.errors, watched.dialogs) == ([], [])
