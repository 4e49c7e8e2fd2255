"""The conversation in real headless Chromium, at 1280 px and on a 375 x 812 phone: an abstention's closest passages,
the conversation kept across reloads (a long one sends /chat only its recent exchanges), "New chat", copy and
Markdown export with citations, a failed request that keeps its question and retries, dark mode, the phone layout, the
empty page (what is indexed, example questions)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from page_helpers import PHONE, ask, needs_chromium, open_page, screenshot, seed_service, serve

from api.app import create_app
from index.embedder import Embedder

pytestmark = [pytest.mark.browser, needs_chromium]

PATROL_Q = "Which port did the US patrol boats reach?"
PATROL_SENTENCE = ("On Tuesday, two patrol boats sent to Ukraine's navy by the United States arrived at the southern "
                   "port of Odessa.")
MOSCOW_TIMES = "U.S., Russian Military Chiefs Speak on the Phone"
MOSCOW_TIMES_URL = "https://www.themoscowtimes.com/2021/11/24/us-russian-military-chiefs-speak-on-the-phone-a75651"
MILLEY = "Top US military general holds talks with Russian counterpart"
MEETING_Q = "How long did the meeting last?"
# The three sentences the reader rated best for MEETING_Q (tests/api/test_api_ask.py has their offsets and scores): the
# standfirst holds the answer and is read first for "how long", but stays under the threshold with the shipped reader.
MEETING_CLOSEST = [
    ("General Mark Milley meets with Russia General Valery Gerasimov in Finland for six hours amid the US push for "
     "Central Asia bases.", "six hours", "0.18", 62, 190, MILLEY),
    ("Last week, Ukraine said it was seeking more military aid from Western allies.", "week", "0.15", 1139, 1216,
     MOSCOW_TIMES),
    ("Milley and Gerasimov had previously met in 2019 and have had a number of phone calls.", "2019", "0.02",
     1818, 1903, MILLEY),
]
VIEWS = {"desktop": {}, "phone": PHONE}


@pytest.fixture
def errors() -> list[str]:
    return []


@pytest.fixture(params=sorted(VIEWS))
def view(request, browser, live_server: str, errors: list[str]):  # type: ignore[no-untyped-def]
    """The page at 1280 px and on a phone; (name, page)."""
    page = open_page(browser, live_server, errors, **VIEWS[request.param])
    yield request.param, page
    page.context.close()
    assert errors == [], f"JavaScript errors on the page: {errors}"


@pytest.fixture
def page(browser, live_server: str, errors: list[str]):  # type: ignore[no-untyped-def]
    page = open_page(browser, live_server, errors)
    yield page
    page.context.close()
    assert errors == [], f"JavaScript errors on the page: {errors}"


def test_an_abstention_shows_its_closest_passages_as_evidence_not_as_an_answer(view) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    name, page = view
    answer = ask(page, MEETING_Q, 1)
    expect(answer).to_have_class("msg msg--assistant msg--notfound")
    expect(answer.locator(".notfound__title")).to_have_text("Not found in the articles.")
    expect(answer.locator(".notfound__reason")).to_have_text("Why: no sentence in the articles supports an answer.")
    expect(answer.locator(".answer, .answer__span, .answer__focus, .sources")).to_have_count(0)
    expect(answer.locator(".closest__title")).to_have_text("Not in the articles — closest passages")
    expect(answer.locator(".closest__quote")).to_have_text([quote for quote, *_ in MEETING_CLOSEST])
    expect(answer.locator(".closest__read")).to_have_text([read for _, read, *_ in MEETING_CLOSEST])
    expect(answer.locator(".closest__score")).to_have_text(
        [f" · reader probability {score}" for _, _, score, *_ in MEETING_CLOSEST])
    expect(answer.locator(".closest__source")).to_have_text([title for *_, title in MEETING_CLOSEST])
    screenshot(page, f"abstention-{name}")

    answer.locator(".closest__item").nth(1).locator("button.chip").click()  # the evidence opens in its article
    mark = page.locator("#source-text mark")
    expect(mark).to_have_text(MEETING_CLOSEST[1][0])
    expect(mark.locator(".quote__focus")).to_have_text("week")
    expect(page.locator("#source-meta")).to_contain_text("[2] characters 1139–1216")


def test_the_conversation_survives_a_reload_until_new_chat(page) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    expect(ask(page, MEETING_Q, 1).locator(".closest__item")).to_have_count(3)
    expect(ask(page, "Who is the Kremlin spokesman?", 2).locator(".answer__span")).to_have_text("Dmitry Peskov")
    page.reload()
    expect(page.locator("li.msg--user .msg__text")).to_have_text([MEETING_Q, "Who is the Kremlin spokesman?"])
    turns = page.locator("li.msg--assistant")
    expect(turns.nth(0).locator(".closest__read")).to_have_text([read for _, read, *_ in MEETING_CLOSEST])
    expect(turns.nth(1).locator(".answer__span")).to_have_text("Dmitry Peskov")
    expect(page.locator("#welcome")).to_be_hidden()
    screenshot(page, "reload-kept")

    # The reloaded conversation is the one /chat continues: "he" is still Peskov.
    with page.expect_request(lambda r: r.url.endswith("/chat")) as sent:
        third = ask(page, "When did he say it?", 3)
    assert [m["content"] for m in sent.value.post_data_json["messages"]] == [
        MEETING_Q, "Not found in the articles.", "Who is the Kremlin spokesman?", "Dmitry Peskov",
        "When did he say it?"]
    expect(third.locator(".resolved__question")).to_have_text("When did Dmitry Peskov say it?")

    page.locator("#new-chat").click()
    expect(page.locator("#log > li")).to_have_count(0)
    expect(page.locator("#welcome")).to_be_visible()
    page.reload()
    expect(page.locator("#welcome-stats")).to_have_text("2 articles indexed (21 passages, 43 sentences).")
    expect(page.locator("#log > li")).to_have_count(0)


SENT_EXCHANGES = 20  # api/static/history.js CHAT_EXCHANGES: the most recent exchanges the page sends to /chat


def _stored_exchange(url: str, question: str) -> dict:
    """An exchange as history.js stores it: the question, no filters, the /chat answer without its passages."""
    response = httpx.post(f"{url}/chat", json={"messages": [{"role": "user", "content": question}]}, timeout=60)
    response.raise_for_status()
    answer = response.json()
    del answer["passages"]
    return {"question": question, "filters": "", "answer": answer}


def test_a_long_saved_conversation_still_gets_answers(page, live_server: str) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    # 120 exchanges saved by an earlier visit: more than POST /chat takes as messages (200). The older questions are
    # numbered, so the messages sent show which exchanges went.
    patrol = _stored_exchange(live_server, PATROL_Q)
    saved = [{**patrol, "question": f"{PATROL_Q} ({n})"} for n in range(1, 120)]
    saved.append(_stored_exchange(live_server, "Who is the Kremlin spokesman?"))
    page.evaluate("c => localStorage.setItem('newsqa.conversation', c)", json.dumps({"exchanges": saved}))
    page.reload()
    expect(page.locator("li.msg--user")).to_have_count(120)  # the page still shows all of it

    with page.expect_request(lambda r: r.url.endswith("/chat")) as sent:
        answer = ask(page, "When did he say it?", 121)
    expect(answer.locator(".resolved__question")).to_have_text("When did Dmitry Peskov say it?")  # "he" still Peskov
    expect(page.locator("li.msg--error")).to_have_count(0)
    recent = [[e["question"], e["answer"]["answer"]] for e in saved[-SENT_EXCHANGES:]]
    assert [m["content"] for m in sent.value.post_data_json["messages"]] == [
        *(text for pair in recent for text in pair), "When did he say it?"]
    assert sent.value.response().status == 200


def test_a_follow_up_is_answered_from_the_earlier_turn_s_event(page) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    expect(ask(page, "Where did Milley and Gerasimov meet?", 1).locator(".answer__span")).to_have_text("Finland")
    second = ask(page, "How long did it last?", 2)
    expect(second.locator(".resolved__question")).to_have_text(
        "How long did the meeting between Milley and Gerasimov in Finland last?")
    expect(second.locator(".answer__span")).to_have_text("six hours")


def _patrol_markdown() -> str:
    return (f"**southern port of Odessa** [1]\n\n> {PATROL_SENTENCE} [1]\n\n"
            f"[1] {MOSCOW_TIMES} <{MOSCOW_TIMES_URL}> (003_15bbf54440315bf5, characters 1218–1330, 2021-11-24)")


def _meeting_markdown() -> str:
    quoted = "\n\n".join(f"> {quote}\n> — [{i}] reader probability {score}"
                         for i, (quote, _, score, *_) in enumerate(MEETING_CLOSEST, 1))
    sources = "\n".join(
        f"[{i}] {MILLEY} (000_674862a2fea0ee51, characters {start}–{end})" if title == MILLEY else
        f"[{i}] {MOSCOW_TIMES} <{MOSCOW_TIMES_URL}> (003_15bbf54440315bf5, characters {start}–{end}, 2021-11-24)"
        for i, (*_, start, end, title) in enumerate(MEETING_CLOSEST, 1))
    return ("**Not found in the articles.** Why: no sentence in the articles supports an answer.\n\n"
            f"Not in the articles — closest passages (evidence, not an answer):\n\n{quoted}\n\n{sources}")


def test_export_the_conversation_as_markdown_with_citations(page, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ask(page, PATROL_Q, 1)
    ask(page, MEETING_Q, 2)
    page.locator("#more > summary").click()
    screenshot(page, "export-menu")
    with page.expect_download() as download:
        page.locator("#export").click()
    today = datetime.now(UTC).date().isoformat()
    assert download.value.suggested_filename == f"newsqa-conversation-{today}.md"
    saved = tmp_path / "conversation.md"
    download.value.save_as(saved)
    assert saved.read_text(encoding="utf-8") == (
        f"# Conversation with newsqa, {today}\n\n## {PATROL_Q}\n\n{_patrol_markdown()}\n\n"
        f"## {MEETING_Q}\n\n{_meeting_markdown()}\n")


def test_copy_puts_the_answer_and_its_citation_on_the_clipboard(page) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    answer = ask(page, PATROL_Q, 1)
    answer.get_by_role("button", name="Copy the answer with its citations").click()
    expect(answer.locator(".msg__said")).to_have_text("Copied, with its citations.")
    assert page.evaluate("navigator.clipboard.readText()") == _patrol_markdown()


def test_an_event_answer_names_its_article_once(page) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    answer = ask(page, "What happened on Tuesday?", 1)
    expect(answer.locator(".answer button.chip")).to_have_text(["1"])  # the answer's own sentence
    expect(answer.locator(".answer__more button.chip")).to_have_text(["2", "3", "4"])
    expect(answer.locator(".sources__item")).to_have_text([f"[1][2][3][4] {MOSCOW_TIMES} · 2021-11-24"])
    screenshot(page, "event-answer")


def test_dark_mode_follows_the_system_setting(browser, live_server: str, errors: list[str]) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    for name, context in VIEWS.items():
        page = open_page(browser, live_server, errors, color_scheme="dark", **context)
        background = "getComputedStyle(document.documentElement).backgroundColor"
        assert page.evaluate(background) == "rgb(18, 21, 27)"
        answer = ask(page, PATROL_Q, 1)
        expect(answer.locator(".answer__span")).to_have_text("southern port of Odessa")
        assert answer.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(27, 31, 39)"
        ask(page, MEETING_Q, 2)
        screenshot(page, f"dark-{name}")
        page.emulate_media(color_scheme="light")  # the page follows a change of the setting at once
        assert page.evaluate(background) == "rgb(246, 247, 249)"
        page.context.close()
    assert errors == []


def test_a_phone_gives_the_conversation_most_of_the_screen(browser, live_server: str, errors: list[str]) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    page = open_page(browser, live_server, errors, **PHONE)
    expect(page.locator("#welcome-examples li")).to_have_count(3)
    screenshot(page, "empty-phone")
    ask(page, PATROL_Q, 1)
    log = page.locator("#log").bounding_box()
    assert log is not None and log["height"] >= 0.7 * 812, log
    header = page.locator(".chat__header").bounding_box()
    assert header is not None and header["height"] <= 60, header
    assert page.locator("#app-title").evaluate("h => h.scrollWidth <= h.clientWidth")  # the title is not cut off
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    screenshot(page, "conversation-phone")

    # The placeholder is never cut off: the empty box is as tall as its placeholder needs, at any width.
    fits = """() => { const q = document.getElementById('question'); q.value = q.placeholder;
        const style = getComputedStyle(q); const ok = q.scrollHeight <= q.clientHeight;
        const inner = q.clientHeight - parseFloat(style.paddingTop) - parseFloat(style.paddingBottom);
        const lines = Math.floor(inner / parseFloat(style.lineHeight)); q.value = '';
        return [ok, q.placeholder, lines > 1]; }"""
    assert page.evaluate(fits) == [True, "Ask about the articles…", False]
    page.set_viewport_size({"width": 240, "height": 640})
    # the box regrows on the window's resize event, which comes a frame after the new layout: wait for two lines
    page.wait_for_function("""() => { const q = document.getElementById('question'), s = getComputedStyle(q);
        return q.clientWidth < 150 && q.clientHeight - parseFloat(s.paddingTop) - parseFloat(s.paddingBottom)
            >= 2 * parseFloat(s.lineHeight); }""")
    assert page.evaluate(fits) == [True, "Ask about the articles…", True]  # wrapped to two lines, and all shown
    page.context.close()
    assert errors == []


def test_the_empty_page_shows_what_is_indexed_and_asks_an_example(page) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    expect(page.locator("#welcome-stats")).to_have_text("2 articles indexed (21 passages, 43 sentences).")
    expect(page.locator("#welcome-newest li")).to_have_text([f"{MOSCOW_TIMES} · 2021-11-24", f"{MILLEY} · undated"])
    examples = page.locator("#welcome-examples button")
    expect(examples).to_have_text([f"Why: {MOSCOW_TIMES}?", f"Who: {MILLEY}?", f"Where: {MOSCOW_TIMES}?"])
    screenshot(page, "empty-desktop")
    page.locator("#more > summary").click()
    expect(page.get_by_role("link", name="API docs")).to_have_attribute("href", "/docs")
    page.locator("#welcome-stats").click()  # a click elsewhere closes the menu
    expect(page.get_by_role("link", name="API docs")).to_be_hidden()
    examples.first.click()
    expect(page.locator("li.msg--user .msg__text")).to_have_text([f"Why: {MOSCOW_TIMES}?"])
    answer = page.locator("li.msg--assistant:not(.msg--pending)").first
    expect(answer.locator(".answer__span")).to_have_text(
        "Western fears that Moscow might be plotting to invade neighboring Ukraine")
    expect(page.locator("#welcome")).to_be_hidden()


@pytest.fixture(scope="module")
def own_service(seed_index_dir: Path, embedder: Embedder, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    return seed_service(seed_index_dir, embedder, tmp_path_factory.mktemp("retry-index") / "index")


def test_a_failed_request_keeps_the_question_and_retries(browser, own_service, errors: list[str]) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    served = serve(create_app(own_service.settings, own_service))
    page = open_page(browser, served.url, errors)
    expect(page.locator("#welcome-examples li")).to_have_count(3)
    port = int(served.url.rsplit(":", 1)[1])
    served.stop()  # the server is down: the question cannot be sent

    failed = ask(page, PATROL_Q, 1)
    expect(failed).to_have_class("msg msg--assistant msg--error")
    expect(failed.locator(".error__text")).to_have_text(
        "No answer: could not reach the server (is it running?); your text is kept, try again")
    expect(page.locator("#question")).to_have_value(PATROL_Q)
    screenshot(page, "retry")

    again = serve(create_app(own_service.settings, own_service), port)  # back up, on the same address
    try:
        assert httpx.get(f"{again.url}/health", timeout=10).status_code == 200
        failed.get_by_role("button", name="Retry").click()
        answer = page.locator("li.msg--assistant:not(.msg--pending)").first
        expect(answer.locator(".answer__span")).to_have_text("southern port of Odessa")
        expect(page.locator("li.msg--user .msg__text")).to_have_text([PATROL_Q])  # one turn, not two
        expect(page.locator("li.msg--error")).to_have_count(0)
        expect(page.locator("#question")).to_have_value("")
    finally:
        page.context.close()
        again.stop()
    assert errors == []
