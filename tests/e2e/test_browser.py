"""The chat page in real headless Chromium (Debian's, driven by Playwright): answer, citation, highlight, follow-up,
"not found", phone width, the filters (since, until, source) and a document full of HTML that must stay inert text."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from page_helpers import ask, needs_chromium, open_page

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
PATROL_Q = "Which port did the US patrol boats reach?"
PATROL_SENTENCE = ("On Tuesday, two patrol boats sent to Ukraine's navy by the United States arrived at the southern "
                   "port of Odessa.")
MILLEY_DOC, MOSCOW_TIMES_DOC = "000_674862a2fea0ee51", "003_15bbf54440315bf5"
DISCUSS_Q = "What did Milley and Gerasimov discuss?"
DISCUSS_MILLEY = ("Gerasimov and Milley, meeting at a residence near Helsinki, discussed issues of mutual interest "
                  "including risk mitigation in military activities, according to a report by RIA Novosti, a Russian "
                  "news service.")
DISCUSS_MOSCOW_TIMES = ("The ministry said in a statement that Chief of Russian General Staff Valery Gerasimov and "
                        "Chairman of the Joint Chiefs of Staff Mark Milley discussed \"current questions of "
                        "international security,\" without providing further details.")
HOSTILE_TEXT = (
    "Ferry notice <script>window.__pwned=1</script>\n\n"
    "The ferry Marisol docks at pier nine <img src=x onerror=\"window.__pwned=1\"> in the port of Zelenka "
    "<script>window.__pwned=1</script> every Friday.\n\n"
    "Tickets are sold at the harbour office."
)

pytestmark = [pytest.mark.browser, needs_chromium]


@pytest.fixture
def page(browser, live_server: str):  # type: ignore[no-untyped-def]
    errors: list[str] = []
    page = open_page(browser, live_server, errors)
    yield page
    page.context.close()
    assert errors == [], f"JavaScript errors on the page: {errors}"


def test_answer_citation_highlight_and_follow_up(page) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    first = ask(page, PATROL_Q, 1)
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

    second = ask(page, "Who is the Kremlin spokesman?", 2)
    expect(second.locator(".answer__span")).to_have_text("Dmitry Peskov")
    third = ask(page, "When did he say it?", 3)
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

    answer = ask(page, "What is the capital of Peru?", 1)
    expect(answer).to_have_class("msg msg--assistant msg--notfound")
    expect(answer.locator(".notfound__title")).to_have_text("Not found in the articles.")
    expect(answer.locator(".notfound__reason")).to_have_text("Why: the articles never mention: Peru.")
    expect(answer.locator(".answer, .answer__span, .sources")).to_have_count(0)  # nothing reads as an answer
    # what the reader read is still shown, as evidence under its own heading (tests/e2e/test_page_conversation.py)
    expect(answer.locator(".closest__title")).to_have_text("Not in the articles — closest passages")
    expect(answer.locator(".closest__read")).to_have_text(["Pakistan", "Karshi-Khanabad", "Tajikistan"])


GENERALS_SENTENCE = ("Top generals from Russia and the United States spoke over the phone on Tuesday, Russia's Defense "
                     "Ministry said, amid Western fears that Moscow might be plotting to invade neighboring Ukraine.")


def test_event_answer_shows_its_sentence_once_and_the_rest_of_the_day(page) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    answer = ask(page, "What happened on Tuesday?", 1)
    expect(answer.locator(".answer__span")).to_have_text(GENERALS_SENTENCE)
    expect(answer.locator(".answer__sentence")).to_have_count(0)  # the answer is the sentence: not quoted twice
    expect(answer.locator(".answer__dates").first).to_have_text("“on Tuesday” = 2021-11-23 (article of 2021-11-24)")
    also = answer.locator(".answer__more .answer__also")
    expect(also).to_have_count(3)  # the patrol boats, Peskov and Shoigu sentences of the same article and day
    expect(also.first.locator(".answer__also-quote")).to_have_text(PATROL_SENTENCE)
    expect(also.first.locator("button.chip")).to_have_text("2")
    expect(also.first.locator(".answer__dates")).to_have_text("“On Tuesday” = 2021-11-23 (article of 2021-11-24)")
    also.first.locator("button.chip").click()
    expect(page.locator("#source-text mark")).to_have_text(PATROL_SENTENCE)


def test_phone_width(browser, live_server: str) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    context = browser.new_context(viewport={"width": 375, "height": 740}, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.goto(live_server)
    answer = ask(page, PATROL_Q, 1)
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    answer.locator("button.chip").tap()
    expect(page.locator("#source-text mark")).to_be_in_viewport()
    box = page.locator("#source").bounding_box()
    assert box is not None and box["x"] >= 0 and box["width"] <= 375
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "chat-phone.png"))
    context.close()


def _open_filters(page):  # type: ignore[no-untyped-def]
    page.locator("#filters > summary").click()
    assert page.locator("#filters").evaluate("details => details.open")


def _ask_sending(page, question: str, n: int):  # type: ignore[no-untyped-def]
    """``ask``, also returning the JSON body the page sent to POST /chat and the body it got back."""
    with page.expect_request(lambda r: r.url.endswith("/chat")) as sent:
        answer = ask(page, question, n)
    response = sent.value.response()
    return answer, sent.value.post_data_json, response.json()


# The seeds: 003_ (The Moscow Times, by AFP) is dated 2021-11-24; 000_ (Al Jazeera) has no date or URL. These tests
# run before the one that adds a document, so the index holds exactly the two seeds.
def test_filters_narrow_the_answer_to_the_one_article_that_qualifies(page) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    expect(page.locator("#filter-summary")).to_be_hidden()
    _open_filters(page)
    options = page.locator("#filter-sources option")
    expect(options).to_have_count(5)  # listed from GET /documents when the disclosure opens
    assert options.evaluate_all("os => os.map(o => [o.value, o.label])") == [
        ["Al Jazeera", "site name · 1 article"], ["themoscowtimes.com", "web site · 1 article"],
        ["AFP", "author · 1 article"], ["000_", "id prefix · 1 article"], ["003_", "id prefix · 1 article"]]
    page.fill("#filter-since", "2021-11-01")
    page.fill("#filter-source", "themoscowtimes.com")
    expect(page.locator("#filter-summary-text")).to_have_text("since 2021-11-01 · source themoscowtimes.com")
    expect(page.locator("#filters > summary")).to_have_text("Filters (2 set)")
    page.locator("#filters > summary").click()  # closed, the summary beside the question box still shows them
    expect(page.locator("#filter-summary")).to_be_visible()

    answer, sent, body = _ask_sending(page, DISCUSS_Q, 1)
    assert sent == {"messages": [{"role": "user", "content": DISCUSS_Q}], "since": "2021-11-01",
                    "source": "themoscowtimes.com"}
    assert [c["doc_id"] for c in body["citations"]] == [MOSCOW_TIMES_DOC]
    assert {p["doc_id"] for p in body["passages"]} == {MOSCOW_TIMES_DOC}
    expect(page.locator("li.msg--user .msg__filters")).to_have_text(
        "Filters: since 2021-11-01 · source themoscowtimes.com")
    expect(answer.locator(".answer__span")).to_have_text("current questions of international security")
    expect(answer.locator(".answer__sentence")).to_have_text(DISCUSS_MOSCOW_TIMES)
    chip = answer.locator("button.chip")
    expect(chip).to_have_count(1)
    expect(chip).to_have_attribute("data-doc-id", MOSCOW_TIMES_DOC)
    chip.click()
    expect(page.locator("#source-text mark")).to_have_text(DISCUSS_MOSCOW_TIMES)
    expect(page.locator("#source-meta")).to_contain_text("characters 370–601")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "chat-filters.png"))


def test_since_after_until_shows_the_servers_422_and_the_conversation_goes_on(page) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    first = ask(page, "Who is the Kremlin spokesman?", 1)
    expect(first.locator(".answer__span")).to_have_text("Dmitry Peskov")
    _open_filters(page)
    page.fill("#filter-since", "2021-12-01")
    page.fill("#filter-until", "2021-11-01")
    refused, sent, body = _ask_sending(page, "When did he say it?", 2)
    assert (sent["since"], sent["until"]) == ("2021-12-01", "2021-11-01")
    assert body == {"detail": "since (2021-12-01) is after until (2021-11-01); no date can match"}
    expect(refused).to_have_class("msg msg--assistant msg--error")
    expect(refused.locator(".error__detail")).to_have_text(
        "since (2021-12-01) is after until (2021-11-01); no date can match")
    expect(refused.locator(".error__text")).to_have_text(
        "The question was not asked: since (2021-12-01) is after until (2021-11-01); no date can match")
    expect(refused.locator(".error__hint")).to_have_text("Change or clear the filters, then send the question again.")
    expect(page.locator("#question")).to_have_value("When did he say it?")  # back in the box, to send again

    page.locator("#filter-clear").click()
    expect(page.locator("#filter-summary")).to_be_hidden()
    expect(page.locator("#question")).to_be_focused()
    page.press("#question", "Enter")  # the refused turn is not in the conversation: "he" is still Peskov
    third = page.locator("li.msg--assistant:not(.msg--pending)").nth(2)
    expect(third.locator(".resolved__question")).to_have_text("When did Dmitry Peskov say it?")
    expect(third.locator(".answer__span")).to_have_text("Tuesday")


def test_a_refused_question_is_told_to_change_the_question_not_the_filters(page) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    refused, _, body = _ask_sending(page, "\u0000\u0000", 1)  # NULs are no question: empty once they are dropped
    assert body == {"detail": "question is empty; ask something about the articles"}
    expect(refused.locator(".error__text")).to_have_text(
        "The question was not asked: question is empty; ask something about the articles")
    expect(refused.locator(".error__hint")).to_have_text("Change the question, then send it again.")


def test_clearing_the_filters_restores_the_unfiltered_answer(page) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    _open_filters(page)
    page.fill("#filter-since", "2021-11-01")
    page.fill("#filter-source", "003_")
    filtered, _, _ = _ask_sending(page, DISCUSS_Q, 1)
    expect(filtered.locator(".answer__sentence")).to_have_text(DISCUSS_MOSCOW_TIMES)

    page.locator("#filter-clear").click()
    for name in ("since", "until", "source"):
        expect(page.locator(f"#filter-{name}")).to_have_value("")
    expect(page.locator("#filters > summary")).to_have_text("Filters")
    unfiltered, sent, body = _ask_sending(page, DISCUSS_Q, 2)
    assert set(sent) == {"messages"}
    assert [c["doc_id"] for c in body["citations"]] == [MILLEY_DOC]
    assert {p["doc_id"] for p in body["passages"]} == {MILLEY_DOC, MOSCOW_TIMES_DOC}  # both articles again
    expect(unfiltered.locator(".answer__span")).to_have_text("issues of mutual interest")
    expect(unfiltered.locator(".answer__sentence")).to_have_text(DISCUSS_MILLEY)
    expect(unfiltered.locator("button.chip")).to_have_attribute("data-doc-id", MILLEY_DOC)
    expect(page.locator("li.msg--user .msg__filters")).to_have_count(1)  # only the filtered turn says so


def test_a_half_typed_date_is_named_and_not_sent(page) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    posted: list[str] = []
    page.on("request", lambda r: posted.append(r.url) if r.url.endswith("/chat") else None)
    _open_filters(page)
    page.locator("#filter-since").click()
    page.keyboard.type("11")  # month only: the input's value is "" and the browser flags it as bad input
    message = "since is not a complete date; finish it (YYYY-MM-DD) or clear it"
    expect(page.locator("#filter-summary-text")).to_have_text(message)
    refused = ask(page, DISCUSS_Q, 1)
    expect(refused.locator(".error__detail")).to_have_text(message)
    assert posted == []  # refused in the page: sent without the date, it would have been answered unfiltered
    page.locator("#filter-clear").click()
    assert page.locator("#filter-since").evaluate("input => input.validity.badInput") is False
    expect(page.locator("#filter-summary")).to_be_hidden()


def test_html_in_a_document_is_shown_as_inert_text(page, live_server: str) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    added = httpx.post(f"{live_server}/documents", json={"title": "Ferry <b>notice</b>", "text": HOSTILE_TEXT,
                                                         "doc_id": "hostile"}, timeout=60)
    assert added.status_code == 201, added.text

    answer = ask(page, "Where does the ferry Marisol dock?", 1)
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
