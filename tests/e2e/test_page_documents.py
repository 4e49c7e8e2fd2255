"""The documents view in real headless Chromium, at 1280 px and on a 375 x 812 phone: upload by picker and by drop,
a JSON Lines feed indexed by a background job with live progress (to completion, and cancelled), deleting the
selected articles and every article of a source after a confirmation, and the API key asked for once (and sent with
every read, the filters' list of sources too, when the server protects reads)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import httpx
import pytest
from page_helpers import PHONE, Served, needs_chromium, open_page, screenshot, seed_service, serve

from api.app import create_app
from index.embedder import Embedder
from index.jobs import Job
from qa.service import QAService

pytestmark = [pytest.mark.browser, needs_chromium]

SEED_TITLES = ["U.S., Russian Military Chiefs Speak on the Phone",
               "Top US military general holds talks with Russian counterpart"]
VIEWS = {"desktop": {}, "phone": PHONE}
BATCH = 20  # documents a job commits per batch here, so a 60-article feed shows progress three times


@pytest.fixture(scope="module")
def server(seed_index_dir: Path, embedder: Embedder,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Served, QAService]]:
    service = seed_service(seed_index_dir, embedder, tmp_path_factory.mktemp("docs-index") / "index",
                           job_batch_docs=BATCH)
    served = serve(create_app(service.settings, service))
    yield served, service
    served.stop()


@pytest.fixture
def errors() -> list[str]:
    return []


def _page(browser, url: str, errors: list[str], **context):  # type: ignore[no-untyped-def]
    page = open_page(browser, url, errors, **context)
    page.locator("#open-docs").click()
    page.locator("#docs-table tbody tr").first.wait_for()
    return page


def _titles(page) -> list[str]:  # type: ignore[no-untyped-def]
    return page.locator("#docs-table tbody .docs__title").all_inner_texts()


def _api_docs(url: str) -> dict[str, dict]:
    return {d["doc_id"]: d for d in httpx.get(f"{url}/documents", timeout=30).json()}


def _source(doc: dict) -> str:
    """The table's Source: the site name, else the web site (without www.), else the author."""
    host = (urlparse(doc["url"]).hostname or "").removeprefix("www.") if doc["url"] else ""
    return doc["site_name"] or host or doc["author"] or "—"


def _articles(tag: str) -> dict[str, str]:
    """Three article files of three formats; ``tag`` keeps each view's copies distinct."""
    return {
        f"bridge-{tag}.html": (
            "<html><head><title>Harbor bridge reopens ({tag})</title>"
            '<meta property="og:site_name" content="Harbor Gazette">'
            '<meta property="article:published_time" content="2024-03-05"></head><body><article>'
            "<h1>Harbor bridge reopens ({tag})</h1><p>The Harbor Bridge reopened on Monday after eight months of "
            "repairs that cost 41 million euros.</p><p>The city engineer, Marta Quill, said the deck was "
            "replaced in four stages.</p></article></body></html>").replace("{tag}", tag),
        f"ferry-{tag}.md": (f"# Ferry timetable changes ({tag})\n\nThe Zelenka ferry will leave pier nine at 7:40 "
                            "from April.\n\nTickets stay at four euros.\n"),
        f"council-{tag}.txt": (f"Council approves budget ({tag})\n\nThe town council approved the 2024 budget by "
                               "eight votes to one on Tuesday.\n\nThe mayor, Ilse Brandt, called it prudent.\n"),
    }


@pytest.mark.parametrize("name", sorted(VIEWS))
def test_upload_three_files_and_see_them_listed(browser, server, errors: list[str], tmp_path: Path,
                                                name: str) -> None:
    from playwright.sync_api import expect

    served, _ = server
    page = _page(browser, served.url, errors, **VIEWS[name])
    files = []
    for file_name, text in _articles(name).items():
        (tmp_path / file_name).write_text(text, encoding="utf-8")
        files.append(str(tmp_path / file_name))
    with page.expect_file_chooser() as chooser:
        page.locator("#docs-pick").click()
    chooser.value.set_files(files)
    uploads = page.locator("#uploads .upload")
    expect(uploads.locator(".upload__name")).to_have_text([Path(f).name for f in files])
    expect(uploads.locator(".upload__status")).to_have_text(["1 article added"] * 3, timeout=60_000)
    assert uploads.locator(".upload__bar").evaluate_all("bars => bars.map(b => b.value === b.max && b.max > 100)") \
        == [True] * 3  # each bar full, its maximum the file's size in bytes
    new = [f"Harbor bridge reopens ({name})", f"Ferry timetable changes ({name})", f"Council approves budget ({name})"]
    expect(page.locator("#docs-table tbody tr")).to_have_count(len(_api_docs(served.url)))
    for title in new:
        expect(page.locator("#docs-table tbody .docs__title", has_text=title)).to_have_count(1)

    # Every row shows what GET /documents says about the article.
    api = _api_docs(served.url)
    rows = page.locator("#docs-table tbody tr")
    for i in range(rows.count()):
        row = rows.nth(i)
        doc = api[row.get_attribute("data-doc-id") or ""]
        cells = row.locator("td").all_inner_texts()[1:]
        assert [c.removeprefix("· ") for c in cells] == [
            doc["title"], _source(doc), doc["published"] or "undated", f"{doc['chars']:,} chars",
            doc["doc_id"]]
    bridge = page.locator("#docs-table tbody tr", has_text=f"Harbor bridge reopens ({name})")
    expect(bridge.locator(".docs__source")).to_have_text("Harbor Gazette")
    expect(bridge.locator(".docs__date")).to_have_text("2024-03-05")
    screenshot(page, f"documents-uploaded-{name}")

    # Sorted by a column, and filtered by text (accents and case aside).
    page.locator("th[data-sort=title] button").click()
    expect(page.locator("th[data-sort=title]")).to_have_attribute("aria-sort", "ascending")
    assert _titles(page) == sorted(_titles(page), key=str.lower)
    page.locator("th[data-sort=title] button").click()
    expect(page.locator("th[data-sort=title]")).to_have_attribute("aria-sort", "descending")
    assert _titles(page) == sorted(_titles(page), key=str.lower, reverse=True)
    page.fill("#docs-filter", f"HARBÖR ({name})")
    expect(page.locator("#docs-table tbody tr")).to_have_count(1)
    expect(page.locator("#docs-summary")).to_have_text(f"1 of {len(api)} match")
    page.context.close()
    assert errors == []


def test_a_dropped_file_is_uploaded(browser, server, errors: list[str]) -> None:
    from playwright.sync_api import expect

    served, _ = server
    page = open_page(browser, served.url, errors)
    expect(page.locator("#welcome-stats")).to_contain_text("articles indexed")
    # A real DataTransfer holding a File, dropped on the conversation: the documents view opens and uploads it.
    page.evaluate("""() => { const data = new DataTransfer();
        data.items.add(new File(['Lighthouse keeper retires\\n\\nAnna Berg kept the Skarv lighthouse for 31 years.'],
                                'lighthouse.txt', {type: 'text/plain'}));
        document.getElementById('log').dispatchEvent(new DragEvent('drop', {dataTransfer: data, bubbles: true,
                                                                              cancelable: true})); }""")
    expect(page.locator("#docs")).to_be_visible()
    expect(page.locator("#uploads .upload__status")).to_have_text(["1 article added"], timeout=60_000)
    expect(page.locator("#docs-table tbody .docs__title", has_text="Lighthouse keeper retires")).to_have_count(1)
    page.context.close()
    assert errors == []


def _feed(tmp_path: Path, name: str, n: int, bad: str | None = None) -> Path:
    """A JSON Lines feed of ``n`` articles, and ``bad`` as one more line when given."""
    path = tmp_path / name
    with path.open("w", encoding="utf-8") as out:
        for i in range(n):
            out.write(json.dumps({"id": f"{path.stem}-{i:03d}", "title": f"Wire {path.stem} {i}",
                                  "site_name": "Wire Feed", "published": f"2024-05-{1 + i % 28:02d}",
                                  # the feed's name in the text: two feeds are other articles, not the same text
                                  "text": f"{path.stem}: Port authority {i} reported {100 + i} ships in May. The "
                                          f"harbour master number {i} said traffic rose. Cranes {i} were repaired."})
                      + "\n")
        if bad is not None:
            out.write(bad + "\n")
    return path


class Gates:
    """Holds a job after each committed batch until the test has seen its progress on the page."""

    def __init__(self, service: QAService, stops: list[int]) -> None:
        self.open = {done: threading.Event() for done in stops}
        self.service = service
        service.jobs.on_batch = self

    def __call__(self, job: Job) -> None:
        if job.done in self.open:
            assert self.open[job.done].wait(120), "the test never released the job"

    def release(self, done: int) -> None:
        self.open[done].set()

    def close(self) -> None:
        for gate in self.open.values():
            gate.set()
        self.service.jobs.on_batch = None


def test_a_large_feed_shows_live_progress_to_completion(browser, server, errors: list[str], tmp_path: Path) -> None:
    from playwright.sync_api import expect

    served, service = server
    feed = _feed(tmp_path, "harbour-feed.jsonl", 60, bad='{"title": "no text"}')  # the good lines are indexed
    gates = Gates(service, [20, 40])
    try:
        page = _page(browser, served.url, errors)
        page.locator("#docs-file").set_input_files(str(feed))
        row = page.locator("#uploads .upload")
        for done in (20, 40):  # the page shows each committed batch while the job waits for it to be seen
            expect(row.locator(".upload__status")).to_have_text(f"indexing: {done} of 60 articles")
            expect(row.locator(".upload__bar")).to_have_js_property("value", done)
            expect(row.locator(".upload__bar")).to_have_js_property("max", 60)
            if done == 20:
                screenshot(page, "upload-progress")
            gates.release(done)
        expect(row.locator(".upload__status")).to_have_text(
            "60 articles added, 1 record not readable (line 61: JSON record needs a non-empty string 'text')",
            timeout=120_000)
        expect(row.locator(".upload__cancel")).to_have_count(0)
        expect(row).to_have_attribute("data-state", "done")
        expect(page.locator("#docs-table tbody .docs__title", has_text="Wire harbour-feed")).to_have_count(60)
        screenshot(page, "upload-done")
    finally:
        gates.close()
    assert len([d for d in _api_docs(served.url) if d.startswith("harbour-feed-")]) == 60
    page.context.close()
    assert errors == []


def test_cancelling_a_feed_keeps_the_committed_batches(browser, server, errors: list[str], tmp_path: Path) -> None:
    from playwright.sync_api import expect

    served, service = server
    feed = _feed(tmp_path, "cancel-feed.jsonl", 60)
    gates = Gates(service, [20])
    try:
        page = _page(browser, served.url, errors)
        page.locator("#docs-file").set_input_files(str(feed))
        row = page.locator("#uploads .upload")
        expect(row.locator(".upload__status")).to_have_text("indexing: 20 of 60 articles")
        row.get_by_role("button", name="Cancel").click()
        expect(row.locator(".upload__status")).to_have_text("indexing: 20 of 60 articles, cancelling after this batch")
        gates.release(20)
        expect(row.locator(".upload__status")).to_have_text(
            "cancelled: 20 of 60 articles were indexed and stay; delete them to undo")
        expect(row).to_have_attribute("data-state", "cancelled")
        screenshot(page, "upload-cancelled")
    finally:
        gates.close()
    assert sorted(d for d in _api_docs(served.url) if d.startswith("cancel-feed-")) == [
        f"cancel-feed-{i:03d}" for i in range(20)]
    page.context.close()
    assert errors == []


def _add(url: str, doc_id: str, title: str, site: str) -> None:
    body = {"doc_id": doc_id, "title": title, "site_name": site, "published": "2024-06-01",
            "text": f"{title}. The story of {doc_id} was reported on Saturday."}
    assert httpx.post(f"{url}/documents", json=body, timeout=60).status_code == 201


def test_delete_the_selected_articles_after_a_confirmation(browser, server, errors: list[str]) -> None:
    from playwright.sync_api import expect

    served, _ = server
    for i in range(3):
        _add(served.url, f"pick-{i}", f"Orchard harvest {i}", "Valley News")
    page = _page(browser, served.url, errors)
    page.fill("#docs-filter", "orchard")
    expect(page.locator("#docs-table tbody tr")).to_have_count(3)
    for doc_id in ("pick-0", "pick-2"):
        page.locator(f"#docs-table tr[data-doc-id='{doc_id}'] input[type=checkbox]").check()
    delete = page.locator("#docs-delete")
    expect(delete).to_have_text("Delete selected (2)")

    delete.click()  # asked first; Cancel deletes nothing
    expect(page.locator("#confirm-text")).to_have_text("Delete 2 articles from the index?")
    expect(page.locator("#confirm-list li")).to_have_text(["Orchard harvest 0", "Orchard harvest 2"])
    page.locator("#confirm-cancel").click()
    assert {"pick-0", "pick-1", "pick-2"} <= set(_api_docs(served.url))

    deletes: list[str] = []
    page.on("request", lambda r: deletes.append(r.url.removeprefix(served.url)) if r.method == "DELETE" else None)
    delete.click()
    screenshot(page, "delete-confirm")
    page.locator("#confirm-delete").click()
    expect(page.locator("#docs-status")).to_have_text("Deleted 2 articles.")
    assert deletes == ["/documents?doc_id=pick-0&doc_id=pick-2"]  # one write for both
    expect(page.locator("#docs-table tbody .docs__title")).to_have_text(["Orchard harvest 1"])
    expect(delete).to_have_text("Delete selected")
    remaining = set(_api_docs(served.url))
    assert "pick-1" in remaining and not {"pick-0", "pick-2"} & remaining
    page.context.close()
    assert errors == []


@pytest.mark.parametrize("name", sorted(VIEWS))
def test_delete_every_article_of_a_source(browser, server, errors: list[str], name: str) -> None:
    from playwright.sync_api import expect

    served, _ = server
    site = f"Tide Weekly {name}"
    for i in range(3):
        _add(served.url, f"tide-{name}-{i}", f"Tide tables {name} {i}", site)
    _add(served.url, f"other-{name}", f"Lock repairs {name}", "Canal Post")
    page = _page(browser, served.url, errors, **VIEWS[name])
    deletes: list[str] = []
    page.on("request", lambda r: deletes.append(r.url.removeprefix(served.url)) if r.method == "DELETE" else None)
    page.fill("#docs-source", site.lower())
    page.get_by_role("button", name="Delete by source…").click()
    expect(page.locator("#confirm-text")).to_have_text(f"Delete the 3 articles of the source “{site.lower()}”?")
    expect(page.locator("#confirm-list li")).to_have_text([f"Tide tables {name} {i}" for i in range(3)])
    assert {f"tide-{name}-{i}" for i in range(3)} <= set(_api_docs(served.url))  # the count was a dry run
    screenshot(page, f"delete-by-source-{name}")
    page.locator("#confirm-delete").click()
    expect(page.locator("#docs-status")).to_have_text(f"Deleted 3 articles of the source “{site.lower()}”.")
    expect(page.locator("#docs-table tbody .docs__title", has_text=f"Tide tables {name}")).to_have_count(0)
    query = f"/documents?source=tide%20weekly%20{name}"  # as typed: the server ignores case
    assert deletes == [f"{query}&dry_run=true", query]  # counted and named first, then deleted in one write
    remaining = set(_api_docs(served.url))
    assert f"other-{name}" in remaining and not {f"tide-{name}-{i}" for i in range(3)} & remaining

    page.fill("#docs-source", "nowhere.example")
    page.get_by_role("button", name="Delete by source…").click()
    expect(page.locator("#docs-status")).to_have_text("No article matches the source “nowhere.example”.")
    expect(page.locator("#confirm")).to_be_hidden()
    page.context.close()
    assert errors == []


KEY = "s3cret-key"


@pytest.fixture(scope="module")
def keyed(seed_index_dir: Path, embedder: Embedder, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    service = seed_service(seed_index_dir, embedder, tmp_path_factory.mktemp("keyed-index") / "index", api_key=KEY)
    served = serve(create_app(service.settings, service))
    yield served.url
    served.stop()


def test_the_api_key_is_asked_once_and_kept_for_the_tab_only(browser, keyed: str, errors: list[str],
                                                              tmp_path: Path) -> None:
    from playwright.sync_api import expect

    page = _page(browser, keyed, errors)
    first, second = tmp_path / "first.txt", tmp_path / "second.txt"
    first.write_text("Bakery opens\n\nThe Rye Street bakery opened on Friday.\n", encoding="utf-8")
    second.write_text("Market moves\n\nThe Sunday market moved to the old quay.\n", encoding="utf-8")
    page.locator("#docs-file").set_input_files(str(first))
    dialog = page.locator("#key-dialog")
    expect(dialog).to_be_visible()
    expect(page.locator("#key-note")).to_have_text("This server needs its API key (QA_API_KEY). "
                                                   "It is kept for this tab only.")
    page.fill("#key-input", "wrong")
    page.locator("#key-ok").click()
    expect(page.locator("#key-note")).to_have_text("The server refused that key (wrong API key). Enter it again.")
    screenshot(page, "api-key")
    page.fill("#key-input", KEY)
    page.locator("#key-ok").click()
    expect(page.locator("#uploads .upload__status")).to_have_text(["1 article added"], timeout=60_000)

    with page.expect_request(lambda r: r.method == "POST" and "/documents" in r.url) as sent:
        page.locator("#docs-file").set_input_files(str(second))
    assert sent.value.headers["authorization"] == f"Bearer {KEY}"
    assert sent.value.headers["x-requested-with"] == "newsqa-page"
    expect(page.locator("#uploads .upload__status")).to_have_text(["1 article added"] * 2, timeout=60_000)
    expect(dialog).to_be_hidden()  # not asked again
    assert page.evaluate("sessionStorage.getItem('newsqa.apiKey')") == KEY
    assert page.evaluate("JSON.stringify(localStorage)").find(KEY) == -1  # never kept beyond the tab
    page.context.close()
    assert errors == []


def test_a_server_that_protects_reads_gets_the_key_once_for_everything(browser, seed_index_dir: Path,
                                                                      embedder: Embedder, tmp_path: Path,
                                                                      errors: list[str]) -> None:
    from playwright.sync_api import expect

    service = seed_service(seed_index_dir, embedder, tmp_path / "index", api_key=KEY, protect_reads=True)
    served = serve(create_app(service.settings, service))
    try:
        page = open_page(browser, served.url, errors)
        expect(page.locator("#key-dialog")).to_be_visible()  # listing what is indexed already needs the key
        page.fill("#key-input", KEY)
        page.locator("#key-ok").click()
        expect(page.locator("#welcome-newest li")).to_have_count(2)
        page.fill("#question", "Who is the Kremlin spokesman?")
        page.press("#question", "Enter")
        expect(page.locator("li.msg--assistant .answer__span")).to_have_text("Dmitry Peskov")
        page.locator("li.msg--assistant button.chip").click()  # reading the article: GET /documents/{id}
        expect(page.locator("#source-text mark")).to_contain_text("Kremlin spokesman Dmitry Peskov")
        page.keyboard.press("Escape")
        page.locator("#filters > summary").click()  # the sources offered: GET /documents again, with the key
        expect(page.locator("#filter-sources option")).to_have_count(5)
        assert page.locator("#filter-sources option").evaluate_all("os => os.map(o => o.value)") == [
            "Al Jazeera", "themoscowtimes.com", "AFP", "000_", "003_"]
        expect(page.locator("#filter-note")).to_be_hidden()
        expect(page.locator("#key-dialog")).to_be_hidden()
        page.context.close()
    finally:
        served.stop()
    assert errors == []
