"""The storage contract: the same tests against every backend (embedded; Milvus on milvus-lite, and on a running
Milvus server when QA_MILVUS_TEST_URI is set, e.g. ``http://127.0.0.1:19530``).

Exact offsets, filters inside retrieval, replace, delete, counts, bad input, and answers equal to the embedded
backend's on the same documents.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from filter_articles import BBC, MILLEY_DOC, MOSCOW_TIMES_DOC, REUTERS, TASS, WIRE, documents

from index import chunking, migrate
from index.backend import Storage
from index.chunking import ChunkParams, chunk_document
from index.documents import Document
from index.embedder import Embedder
from index.errors import DocumentNotFoundError, IndexMismatchError, InvalidInputError
from index.filters import Filters
from index.ingest import load_files
from index.milvus_schema import TEXT_PART_CHARS
from index.store import IndexStore
from qa.config import Settings
from qa.service import QAService

SEEDS = Path(__file__).resolve().parents[2] / "seeds"
MEET_Q = "Where did Milley and Gerasimov meet?"
BACKENDS = ["embedded", "milvus-lite"] + (["milvus-server"] if os.environ.get("QA_MILVUS_TEST_URI") else [])
_prefixes = itertools.count()


@pytest.fixture(scope="module")
def lite_uri(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One milvus-lite engine for the module (each test gets its own collections); its unix socket URI."""
    from index.milvus import start_lite

    engine, uri = start_lite(tmp_path_factory.mktemp("milvus") / "contract.db")
    yield uri
    engine.stop()


def _open(backend: str, where: Path, embedder: Embedder, request: pytest.FixtureRequest, prefix: str) -> Storage:
    """An embedded store in ``where``, or a Milvus one under collection ``prefix``."""
    if backend == "embedded":
        return IndexStore.open(where, embedder, create=True)
    from index.milvus import MilvusStore

    uri = request.getfixturevalue("lite_uri") if backend == "milvus-lite" else os.environ["QA_MILVUS_TEST_URI"]
    return MilvusStore.open(uri, embedder, prefix=prefix, create=True)


@pytest.fixture(params=BACKENDS)
def open_store(request: pytest.FixtureRequest, tmp_path: Path, embedder: Embedder) -> Iterator:
    """``open_store()`` opens (and creates) this test's store; again, the same store in a new connection."""
    opened: list = []
    prefix = f"contract{os.getpid()}_{next(_prefixes)}"

    def open_() -> Storage:
        opened.append(_open(request.param, tmp_path / "index", embedder, request, prefix))
        return opened[-1]

    yield open_
    for store in opened[-1:]:
        if hasattr(store, "drop"):
            store.drop()
    for store in opened:
        if hasattr(store, "close"):
            store.close()


@pytest.fixture(scope="module")
def filled(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
           embedder: Embedder) -> Iterator[dict[str, Storage]]:
    """Per backend, a store holding the seeds, the filter articles and a long article (read-only tests)."""
    stores = {}
    for backend in BACKENDS:
        stores[backend] = _open(backend, tmp_path_factory.mktemp("filled") / "index", embedder, request,
                                f"filled{os.getpid()}_{next(_prefixes)}")
        if backend == "embedded":
            assert len(stores[backend].update(ALL).added) == len(ALL)
        else:  # the same vectors as the embedded store's (embedding again costs a minute on a loaded machine)
            assert migrate.to_milvus(stores["embedded"], stores[backend]) == (len(ALL), 0)  # type: ignore[arg-type]
    yield stores
    for store in stores.values():
        if hasattr(store, "drop"):
            store.drop()
            store.close()


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, filled: dict[str, Storage]) -> Storage:
    return filled[request.param]


def _seeds() -> list[Document]:
    return [d for d in load_files([SEEDS]) if isinstance(d, Document)]


def _service(store: Storage) -> QAService:
    return QAService(store, Settings(seeds_dir=SEEDS))


def _long_article() -> Document:
    """Longer than three of Milvus' text parts, with 4-byte characters around a part boundary and the fact the
    question asks about in the last part."""
    def names(n: int) -> str:
        return ", ".join(f"berth {n}-{i} for the {w} fleet" for i, w in enumerate(["ferry", "fishing", "tug"] * 20))

    # every sentence different: passages with equal scores would rank in each backend's own order
    before = "".join(f"At meeting {n} the committee discussed the harbour budget for {names(n)}. " for n in range(12))
    after = "".join(f"At session {n} the council approved the dredging plan for {names(n + 100)}. " for n in range(22))
    emoji = "Delegates posted 🚢 and ⚓ pictures from the quay. "
    fact = "The new lighthouse keeper of Tarnby is named Oskar Lindqvist."
    text = "Harbour notes\n\n" + before[: TEXT_PART_CHARS - 30] + emoji + after + fact
    assert len(text) > 3 * TEXT_PART_CHARS
    return Document("long_harbour", "Harbour notes", text, published="2022-03-01")


def test_counts_documents_and_exact_text(store: Storage) -> None:
    view = store.snapshot
    params = ChunkParams()
    pieces = [chunk_document(d.doc_id, d.text, params, d.title) for d in ALL]
    assert (len(view.entries), view.n_passages, view.n_sentences) == (
        len(ALL), sum(len(c) for _, c in pieces), sum(len(s) for s, _ in pieces))
    assert sorted(view.entries) == sorted(d.doc_id for d in ALL)
    for doc in ALL:
        assert view.document(doc.doc_id) == doc
    assert view.document("no-such-doc") is None
    counts = store.manifest()["counts"]
    assert counts == {"documents": len(ALL), "passages": view.n_passages, "sentences": view.n_sentences}


def test_answers_cite_exact_offsets_even_past_the_first_text_part(store: Storage) -> None:
    service = _service(store)
    long = LONG
    answer = service.ask("Who is the lighthouse keeper of Tarnby?")
    assert answer.answer == "Oskar Lindqvist"
    citation = answer.citations[0]
    assert citation.doc_id == "long_harbour"
    assert long.text[citation.start:citation.end] == citation.quote
    assert citation.highlight is not None
    assert citation.highlight.start > 3 * TEXT_PART_CHARS
    assert long.text[citation.highlight.start:citation.highlight.end] == "Oskar Lindqvist"
    meet = service.ask(MEET_Q)
    assert (meet.answer, meet.citations[0].doc_id, meet.citations[0].start, meet.citations[0].end) == (
        "Finland", MILLEY_DOC, 62, 190)
    for p in service.search("harbour budget committee", 5):
        assert service.document(p.doc_id).doc.text[p.start:p.end] == p.text


def test_answers_and_rankings_equal_across_backends(filled: dict[str, Storage]) -> None:
    services = {name: _service(store) for name, store in filled.items()}
    questions = [MEET_Q, "How long did the generals talk?", "Which port did the American patrol boats reach?",
                 "What did Kazakhstan say about US bases?", "Who is the lighthouse keeper of Tarnby?"]
    expected = services.pop("embedded")
    for q in questions:
        for service in services.values():
            assert service.ask(q) == expected.ask(q)
            assert service.search(q, 8) == expected.search(q, 8)


def test_a_batch_answers_as_its_questions_one_at_a_time(store: Storage) -> None:
    """Milvus searches a batch's questions in one call per kind: each question still gets its own hits."""
    service = _service(store)
    questions = [MEET_Q, "Who is the lighthouse keeper of Tarnby?", "What did Kazakhstan say about US bases?",
                 "zzzz qqqq"]
    for filters in (None, Filters.parse(since="2021-11-24")):
        assert service.ask_batch(questions, filters=filters) == [service.ask(q, filters=filters) for q in questions]


LONG = _long_article()
ALL = [*_seeds(), *documents(), LONG]


@pytest.mark.parametrize(("values", "expected"), [
    ({"since": "2021-11-24"}, {MOSCOW_TIMES_DOC, BBC, REUTERS, "long_harbour"}),
    ({"until": "2021-11-24"}, {TASS, MOSCOW_TIMES_DOC, BBC}),
    ({"since": "2021-11-21", "until": "2021-11-30"}, {MOSCOW_TIMES_DOC, BBC}),
    ({"source": "co.uk"}, {BBC}),
    ({"source": "www.BBC.co.uk"}, {BBC}),
    ({"source": "bbc news"}, {BBC}),
    ({"source": "themoscowtimes"}, {MOSCOW_TIMES_DOC}),
    ({"source": "com"}, {TASS, MOSCOW_TIMES_DOC, REUTERS}),
    ({"source": "F4"}, {WIRE}),
    ({"source": "f_"}, set()),  # "_" is a doc_id prefix character here, not a wildcard
    ({"source": "00%"}, set()),
    ({"source": '"; drop'}, set()),
    ({"source": "f", "since": "2021-11-21"}, {BBC, REUTERS}),
    ({"source": "long_", "until": "2022-03-01"}, {"long_harbour"}),
])
def test_filters_apply_inside_the_search(store: Storage, values: dict[str, str], expected: set[str]) -> None:
    service = _service(store)
    filters = Filters.parse(**values)
    assert filters is not None
    view = store.snapshot
    assert {d for d in view.entries if filters.matches(view.entries[d].doc)} == expected
    allowed = sum(len(view.entries[d].chunks) for d in expected)
    assert view.count_passages(filters) == allowed
    passages = service.search(MEET_Q, 20, filters)
    assert len(passages) == min(20, allowed)  # the top k of the allowed documents, not of all then filtered
    assert {p.doc_id for p in passages} <= expected
    if allowed <= 20:
        assert {p.doc_id for p in passages} == expected
    answer = service.ask(MEET_Q, filters=filters)
    assert {c.doc_id for c in answer.citations} <= expected
    if not expected:
        assert answer.abstain_reason == f"no article matches the filters ({filters.describe()})"


def test_replace_leaves_no_old_row_answering(open_store) -> None:
    store = open_store()
    store.update(_seeds())
    old = Document("harbour", "Harbour", "The ferry to Kestrel Island leaves at nine. The fare is four crowns.")
    new = Document("harbour", "Harbour", "The ferry to Kestrel Island now leaves at noon.")
    assert store.update([old]).added == ["harbour"]
    assert store.update([new]).changed == ["harbour"]
    assert store.update([new]).unchanged == ["harbour"]
    view = store.snapshot
    assert view.document("harbour") == new
    passages = sum(len(chunk_document(d.doc_id, d.text, ChunkParams(), d.title)[1]) for d in [*_seeds(), new])
    assert (len(view.entries), view.n_passages) == (3, passages)
    service = _service(store)
    assert all("crowns" not in p.text for p in service.search("ferry fare crowns", 50))
    answer = service.ask("When does the ferry to Kestrel Island leave?")
    assert answer.answer == "noon"
    assert new.text[answer.citations[0].start:answer.citations[0].end] == answer.citations[0].quote
    assert "crown" not in store.snapshot.vocab  # the old version's terms are gone from the frequencies


def test_a_document_keeps_its_split_until_split_again_by_todays_rules(open_store,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """When the sentence rules change (here, back to an earlier rule: the headline line kept as a sentence), a
    stored document reads back split as it was written and its answers cite the same characters; indexing the same
    text again, or the stored documents given back (``qa index --resplit``), splits it by today's rules, and only a
    document so split again counts as changed."""
    ferry = Document("ferry", "Ferry fares rise", "Ferry fares rise\n\nThe ferry to Kestrel Island leaves at nine. "
                     "The fare is four crowns.")
    harbour = Document("harbour", "Harbour", "The harbour master is Ada Lind. She took office in May.")
    today = [s.text for s in chunk_document(ferry.doc_id, ferry.text, ChunkParams(), ferry.title)[0]]
    assert today == ["The ferry to Kestrel Island leaves at nine.", "The fare is four crowns."]
    earlier = chunking.chunk_document
    monkeypatch.setattr(chunking, "chunk_document",
                        lambda doc_id, text, params, title=None: earlier(doc_id, text, params))
    store = open_store()
    assert store.update([ferry, harbour]).added == ["ferry", "harbour"]
    monkeypatch.undo()  # today's rules again, for reading and for every write from here on

    def sentences() -> list[str]:
        view = store.snapshot
        held = sorted(s.text for d in ("ferry", "harbour") for s in view.entries[d].sentences)
        assert view.n_sentences == len(held)  # no row of another split left answering
        return held

    held = ["Ferry fares rise", "She took office in May.", *today, "The harbour master is Ada Lind."]
    assert sentences() == sorted(held)
    answer = _service(store).ask("When does the ferry to Kestrel Island leave?")
    assert answer.answer == "nine"
    assert ferry.text[answer.citations[0].start:answer.citations[0].end] == answer.citations[0].quote
    report = store.update(list(store.stored_documents()))
    assert (report.changed, report.unchanged) == (["ferry"], ["harbour"])
    assert sentences() == sorted(held[1:])
    assert store.update([ferry]).unchanged == ["ferry"]
    assert _service(store).ask("When does the ferry to Kestrel Island leave?").citations[0].quote == today[0]


def test_a_repeated_batch_never_duplicates_rows(open_store) -> None:
    store = open_store()
    docs = documents()
    store.update(docs)
    counts = store.manifest()["counts"]
    report = store.update([*docs, *docs])  # a retried job batch, twice in one call
    assert (set(report.unchanged), report.added, report.changed) == ({d.doc_id for d in docs}, [], [])
    assert store.manifest()["counts"] == counts
    again = open_store().manifest()["counts"]  # a fresh connection (another replica) sees the same
    assert again == counts


def test_delete(open_store) -> None:
    store = open_store()
    store.update([*_seeds(), *documents()])
    store.remove(TASS)
    view = store.snapshot
    assert TASS not in set(view.entries) and view.document(TASS) is None
    assert len(view.entries) == 5
    assert all(p.doc_id != TASS for p in _service(store).search("telephone conversation Saturday", 50))
    with pytest.raises(DocumentNotFoundError, match="no document with id 'f1_tass_call'"):
        store.remove(TASS)


def test_bad_input_is_refused_and_nothing_is_written(open_store) -> None:
    store = open_store()
    store.update(_seeds())
    bad = Document("bad", "Bad", "A lone surrogate \ud800 here.")
    with pytest.raises(InvalidInputError, match="a lone surrogate"):
        store.update([Document("fine", "Fine", "Fine text."), bad])
    view = store.snapshot
    assert sorted(view.entries) == sorted(d.doc_id for d in _seeds())


def test_a_store_of_another_model_or_chunking_is_refused(open_store, embedder: Embedder) -> None:
    store = open_store()
    store.update(_seeds())
    other = ChunkParams(max_words=50)
    reopen = type(store).open
    target = store.index_dir if isinstance(store, IndexStore) else store.uri  # type: ignore[attr-defined]
    kwargs = {} if isinstance(store, IndexStore) else {"prefix": store.prefix}  # type: ignore[attr-defined]
    with pytest.raises(IndexMismatchError, match="chunking"):
        reopen(target, embedder, other, **kwargs)  # type: ignore[call-arg]


def test_a_large_batch_is_written_replaced_and_listed_whole(open_store) -> None:
    store = open_store()
    first = [Document(f"b{i:02d}", f"Boat {i}", f"Boat {i} sails at {i % 12 + 1}. It carries {i} people.")
             for i in range(70)]  # more documents than one write batch, and than one Milvus expression may OR
    assert len(store.update(first).added) == 70
    second = [Document(d.doc_id, d.title, d.text.replace("sails", "docks")) for d in first]
    assert len(store.update(second).changed) == 70
    view = store.snapshot
    assert sorted(e.doc.doc_id for e in view.entries.values()) == [d.doc_id for d in first]
    assert [view.entries[d.doc_id].doc for d in second] == second
    assert (view.n_passages, view.n_sentences) == (70, 140)


def test_duplicates_are_found_on_embedded_and_reported_unchecked_on_milvus(open_store,
                                                                          request: pytest.FixtureRequest) -> None:
    store = open_store()
    store.update(_seeds())
    service = _service(store)
    text = "The ferry to Kestrel Island leaves at nine. The fare is four crowns."
    service.add_documents([Document("harbour", "Harbour", text)])
    report = service.add_documents([Document("harbour_copy", "Harbour", text)])
    answer = service.ask("When does the ferry to Kestrel Island leave?")
    assert answer.answer == "nine"
    if request.node.callspec.params["open_store"] == "embedded":
        assert service.duplicates_unchecked is None
        assert report.added == []
        assert [(s.doc_id, s.duplicate_of) for s in report.skipped] == [("harbour_copy", "harbour")]
        assert [(c.doc_id, c.copies) for c in answer.citations] == [("harbour", [])]
    else:  # Milvus indexes every text as it is, and says so instead of failing
        assert service.duplicates_unchecked == (
            "duplicate detection is not available on the milvus backend: every document is indexed as it is, "
            "a copy under its own id (allow_duplicate changes nothing)")
        assert (report.added, report.skipped) == (["harbour_copy"], [])
        assert service.store.snapshot.document("harbour_copy").duplicate_of is None
        assert {c.doc_id for c in answer.citations} <= {"harbour", "harbour_copy"}
        assert all(c.copies == [] for c in answer.citations)
