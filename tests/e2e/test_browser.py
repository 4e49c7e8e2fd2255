"""The chat page in real headless Chromium (Debian's, driven by Playwright): answer, citation, highlight, follow-up,
"not found", phone width, and a document full of HTML that must stay inert text."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
PATROL_Q = "Which port did the US patrol boats reach?"
PATROL_SENTENCE = ("On Tuesday, two patrol boats sent to Ukraine's navy by the United States arrived at the southern "
                   "port of Odessa.")
HOSTILE_TEXT = (
    "Ferry notice <script>window.__pwned=1</script>\n\n"
    "The ferry Marisol docks at pier nine <img src=x onerror=\"window.__pwned=1\"> in the port of Zelenka "
    "<script>window.__pwned=1</script> every Friday.\n\n"
    "Tickets are sold at the harbour office."
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists() and os.environ.get("CI") != "true",
                       reason="needs Debian's chromium at /usr/bin/chromium (`make browser-deps` installs it); "
                              "in CI (CI=true) this test always runs"),
]


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update"],
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, live_server: str):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(live_server)
    yield page
    context.close()
    assert errors == [], f"JavaScript errors on the page: {errors}"


def _ask(page, question: str, n: int):  # type: ignore[no-untyped-def]
    """Type a question, press Enter, return the n-th (1-based) finished assistant message."""
    page.fill("#question", question)
    page.press("#question", "Enter")
    answer = page.locator("li.msg--assistant:not(.msg--pending)").nth(n - 1)
    answer.wait_for()
    return answer


def test_answer_citation_highlight_and_follow_up(page) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    first = _ask(page, PATROL_Q, 1)
    expect(first.locator(".answer__span")).to_have_text("southern port of Odessa")  # the span, then its sentence
    expect(first.locator(".answer__sentence")).to_have_text(PATROL_SENTENCE)
    expect(first.locator(".answer__sentence .answer__focus")).to_have_text("southern port of Odessa")
    expect(first.locator(".answer__dates")).to_have_text("“On Tuesday” = 2021-11-23 (article of 2021-11-24)")
    chip = first.locator("button.chip")
    expect(chip).to_have_count(1)
    expect(chip).to_have_text("1")
    expect(first.locator(".resolved")).to_have_count(0)  # a standalone question needs no "answered as"

    chip.click()
    mark = page.locator("#source-text mark")
    expect(mark).to_have_text(PATROL_SENTENCE)
    expect(mark.locator(".quote__focus")).to_have_text("southern port of Odessa")  # the span in bold, in the sentence
    expect(mark).to_be_in_viewport()
    expect(page.locator("#source-title")).to_have_text("U.S., Russian Military Chiefs Speak on the Phone")
    expect(page.locator("#source-meta")).to_contain_text("characters 1218–1330")
    page.keyboard.press("Escape")
    expect(page.locator("#source")).to_be_hidden()
    expect(chip).to_be_focused()  # focus returns to the chip that opened the source

    second = _ask(page, "Who is the Kremlin spokesman?", 2)
    expect(second.locator(".answer__span")).to_have_text("Dmitry Peskov")
    third = _ask(page, "When did he say it?", 3)
    expect(third.locator(".resolved__question")).to_have_text("When did Dmitry Peskov say it?")
    expect(third.locator(".answer__span")).to_have_text("Tuesday")
    expect(third.locator(".answer__sentence")).to_contain_text("Kremlin spokesman Dmitry Peskov said on Tuesday")

    third.locator("button.chip").first.focus()
    page.keyboard.press("Enter")
    expect(mark).to_contain_text("Kremlin spokesman Dmitry Peskov said on Tuesday")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "chat.png"), full_page=True)
    assert (ARTIFACTS / "chat.png").stat().st_size > 10_000


def test_not_found_state_is_distinct(page) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    answer = _ask(page, "What is the capital of Peru?", 1)
    expect(answer).to_have_class("msg msg--assistant msg--notfound")
    expect(answer.locator(".notfound__title")).to_have_text("Not found in the articles.")
    expect(answer.locator("button.chip")).to_have_count(0)


def test_phone_width(browser, live_server: str) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    context = browser.new_context(viewport={"width": 375, "height": 740}, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.goto(live_server)
    answer = _ask(page, PATROL_Q, 1)
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    answer.locator("button.chip").tap()
    expect(page.locator("#source-text mark")).to_be_in_viewport()
    box = page.locator("#source").bounding_box()
    assert box is not None and box["x"] >= 0 and box["width"] <= 375
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "chat-phone.png"))
    context.close()


def test_html_in_a_document_is_shown_as_inert_text(page, live_server: str) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    added = httpx.post(f"{live_server}/documents", json={"title": "Ferry <b>notice</b>", "text": HOSTILE_TEXT,
                                                         "doc_id": "hostile"}, timeout=60)
    assert added.status_code == 201, added.text

    answer = _ask(page, "Where does the ferry Marisol dock?", 1)
    expect(answer.locator(".answer__sentence")).to_contain_text('<img src=x onerror="window.__pwned=1">')
    answer.locator("button.chip").first.click()
    mark = page.locator("#source-text mark")
    quote = httpx.post(f"{live_server}/ask", json={"question": "Where does the ferry Marisol dock?"},
                       timeout=60).json()["citations"][0]["quote"]
    assert "<script>window.__pwned=1</script>" in quote
    expect(mark).to_have_text(quote)
    expect(page.locator("#source-title")).to_have_text("Ferry <b>notice</b>")
    expect(page.locator("#source-text")).to_contain_text("Ferry notice <script>window.__pwned=1</script>")
    assert page.locator("#source-text img, #source-text script, #log img, #log script, #source b").count() == 0
    assert page.evaluate("typeof window.__pwned") == "undefined"


def test_api_docs_render_offline_under_the_csp(browser, live_server: str) -> None:  # type: ignore[no-untyped-def]
    """/docs is Swagger UI from local files: every request stays on the server, no CSP violation, operations shown."""
    context = browser.new_context()
    page = context.new_page()
    foreign: list[str] = []
    console: list[str] = []
    page.on("request", lambda r: None if r.url.startswith(live_server) else foreign.append(r.url))
    page.on("console", lambda m: console.append(m.text) if m.type == "error" else None)
    page.goto(f"{live_server}/docs")
    page.wait_for_selector(".opblock-summary-path", timeout=30_000)
    paths = page.locator(".opblock-summary-path").all_inner_texts()
    context.close()
    assert {"/ask", "/chat", "/documents", "/health"} <= {p.strip() for p in paths}
    assert foreign == []
    assert not [m for m in console if "Content Security Policy" in m]
