"""Metadata filters (since, until, source): parsing, matching rules, and filtering inside retrieval with exact ids.

The index is a copy of the seed index plus the four articles of tests/filter_articles.py (table there). It holds
fewer sentences than DENSE_CANDIDATES, so dense scores are exact for every passage and a filtered ranking can be
checked against the unfiltered scores restricted to the allowed passages.
"""

from __future__ import annotations

import shutil
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from filter_articles import BBC, MILLEY_DOC, MOSCOW_TIMES_DOC, REUTERS, TASS, WIRE, documents

from index.documents import Document
from index.embedded_search import DENSE_CANDIDATES, bm25_passage_scores, dense_passage_scores
from index.embedder import Embedder
from index.errors import InvalidInputError
from index.filters import Filters
from index.snapshot import IndexSnapshot, build_faiss
from index.store import IndexStore
from index.text import terms
from qa.config import Settings
from qa.models import Hit, Passage
from qa.retrieve import QuestionEncoder, Retriever
from qa.service import QAService

SEEDS = Path(__file__).resolve().parents[2] / "seeds"
MEET_Q = "Where did Milley meet Gerasimov?"
QUESTIONS = [MEET_Q, "Which port did the American patrol boats reach?", "What did the generals discuss on the phone?"]
DATED = {TASS, MOSCOW_TIMES_DOC, BBC, REUTERS}
ALL_DOCS = DATED | {MILLEY_DOC, WIRE}


@pytest.fixture(scope="module")
def service(seed_index_dir: Path, tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> QAService:
    """A service over the seed index plus the filter articles (module-wide: tests must not write through it)."""
    index_dir = tmp_path_factory.mktemp("filters") / "index"
    shutil.copytree(seed_index_dir, index_dir)
    svc = QAService(IndexStore.open(index_dir, embedder), Settings(index_dir=index_dir, seeds_dir=SEEDS))
    svc.add_documents(documents())
    assert sorted(svc.store.snapshot.entries) == sorted(ALL_DOCS)
    return svc


def _parse(**values: str) -> Filters:
    filters = Filters.parse(**values)
    assert filters is not None
    return filters


def _passages_of(snap: IndexSnapshot, doc_ids: set[str]) -> int:
    return sum(len(snap.entries[d].chunks) for d in doc_ids)


def _old_search_batch(retriever: Retriever, snap: IndexSnapshot, questions: Sequence[str], k: int) -> list[list[Hit]]:
    """Retriever.search_batch as it was before filters existed, verbatim."""
    qvecs = retriever.encoder.encode(questions)
    dense_all = dense_passage_scores(snap, qvecs)
    results = []
    for question, dense in zip(questions, dense_all, strict=True):
        bm25 = bm25_passage_scores(snap, terms(question))
        fused = retriever.fuse(dense, bm25, retriever.dense_weight)
        top = np.argsort(-fused, kind="stable")[: min(k, len(fused))]
        results.append([Hit(passage_id=int(i), score=float(fused[i]), dense=float(dense[i]), bm25=float(bm25[i]))
                        for i in top])
    return results


def _restricted_ranking(retriever: Retriever, snap: IndexSnapshot, question: str, k: int,
                        allowed: set[str]) -> list[int]:
    """The unfiltered dense and BM25 scores, fused and ranked over the allowed documents' passages only."""
    assert len(snap.sentences) <= DENSE_CANDIDATES  # dense scores are exact for every passage
    dense = dense_passage_scores(snap, retriever.encoder.encode([question]))[0]
    bm25 = bm25_passage_scores(snap, terms(question))
    pids = np.array([i for i, p in enumerate(snap.passages) if p.doc_id in allowed])
    fused = retriever.fuse(dense[pids], bm25[pids], retriever.dense_weight)
    return [int(p) for p in pids[np.argsort(-fused, kind="stable")[:k]]]


# ---- parsing ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"since": "2021-13-01"}, "since must be an ISO date YYYY-MM-DD, got '2021-13-01'"),
        ({"since": "2021-02-30"}, "since must be an ISO date YYYY-MM-DD, got '2021-02-30'"),
        ({"until": "24/11/2021"}, "until must be an ISO date YYYY-MM-DD, got '24/11/2021'"),
        ({"until": "2021-11-5"}, "until must be an ISO date YYYY-MM-DD, got '2021-11-5'"),
        ({"since": "20211124"}, "since must be an ISO date YYYY-MM-DD, got '20211124'"),
        ({"since": "2021-11-24T00:00"}, "since must be an ISO date YYYY-MM-DD, got '2021-11-24T00:00'"),
        ({"since": ""}, "since must be an ISO date YYYY-MM-DD, got ''"),
        ({"since": "2021-12-01", "until": "2021-11-30"}, "since (2021-12-01) is after until (2021-11-30); no date can "
                                                         "match"),
        ({"source": "  "}, "source is empty; give a site name, a host name or a doc_id prefix"),
    ],
)
def test_malformed_filters_are_rejected_with_the_reason(values: dict[str, str], message: str) -> None:
    with pytest.raises(InvalidInputError) as info:
        Filters.parse(**values)
    assert str(info.value) == message
    assert info.value.status_code == 422


def test_no_filter_is_none_and_given_ones_round_trip() -> None:
    assert Filters.parse() is None
    assert Filters.parse(None, None, None) is None
    f = _parse(since="2021-11-24", until="2021-11-24", source=" BBC ")
    assert f.params() == {"since": "2021-11-24", "until": "2021-11-24", "source": "BBC"}
    assert f.describe() == "since 2021-11-24, until 2021-11-24, source BBC"
    assert Filters.parse(**f.params()) == f
    assert _parse(source="tass").params() == {"source": "tass"}


# ---- matching rules ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("source", "matched"),
    [
        ("TASS", [TASS]),  # site name, any case
        ("bbc news", [BBC]),
        ("  Reuters ", [REUTERS]),
        ("Example Wire", [WIRE]),  # site name of a document without a URL
        ("themoscowtimes", [MOSCOW_TIMES_DOC]),  # the host's first label, after www.
        ("themoscowtimes.com", [MOSCOW_TIMES_DOC]),  # the host without www.
        ("www.themoscowtimes.com", [MOSCOW_TIMES_DOC]),  # the host as written
        ("WWW.TheMoscowTimes.COM", [MOSCOW_TIMES_DOC]),
        ("tass.com", [TASS]),
        ("bbc", [BBC]),  # first label of bbc.co.uk
        ("bbc.co.uk", [BBC]),
        ("co.uk", [BBC]),  # trailing labels of the host
        ("com", [MOSCOW_TIMES_DOC, TASS, REUTERS]),
        ("003_", [MOSCOW_TIMES_DOC]),  # doc_id prefix
        ("00", [MILLEY_DOC, MOSCOW_TIMES_DOC]),
        ("F2_BBC", [BBC]),
        ("f", [TASS, BBC, REUTERS, WIRE]),
        ("moscow", []),  # part of a label matches nothing
        ("times.com", []),
        ("themoscowtimes.co", []),
        ("news", []),  # a word of a site name is not the site name
        ("https://www.themoscowtimes.com", []),  # a URL is not a host name
    ],
)
def test_source_matches_site_name_host_or_doc_id_prefix(service: QAService, source: str, matched: list[str]) -> None:
    assert _parse(source=source).doc_ids(service.store.snapshot) == matched


@pytest.mark.parametrize(
    ("values", "matched"),
    [
        ({"since": "2021-11-24"}, [MOSCOW_TIMES_DOC, BBC, REUTERS]),  # inclusive
        ({"since": "2021-11-25"}, [REUTERS]),
        ({"until": "2021-11-24"}, [MOSCOW_TIMES_DOC, TASS, BBC]),  # inclusive
        ({"until": "2021-11-23"}, [TASS]),
        ({"since": "2021-11-24", "until": "2021-11-24"}, [MOSCOW_TIMES_DOC, BBC]),
        ({"since": "2021-11-20", "until": "2021-12-01"}, [MOSCOW_TIMES_DOC, TASS, BBC, REUTERS]),
        ({"since": "1900-01-01"}, [MOSCOW_TIMES_DOC, TASS, BBC, REUTERS]),  # never the undated ones
        ({"until": "2999-12-31"}, [MOSCOW_TIMES_DOC, TASS, BBC, REUTERS]),
        ({"since": "2021-12-02"}, []),
        ({"since": "2021-11-21", "source": "com"}, [MOSCOW_TIMES_DOC, REUTERS]),  # every condition must hold
        ({"until": "2021-12-31", "source": "Example Wire"}, []),  # the wire story has no date
    ],
)
def test_dates_are_inclusive_and_undated_documents_never_match(service: QAService, values: dict[str, str],
                                                               matched: list[str]) -> None:
    assert _parse(**values).doc_ids(service.store.snapshot) == matched


def test_a_stored_date_that_is_no_iso_date_does_not_match() -> None:
    doc = Document("x", "T", "Body.", published="November 24, 2021")
    assert not _parse(since="2000-01-01").matches(doc)
    assert _parse(source="x").matches(doc)


@pytest.mark.parametrize("source", ["aljazeera", "Al Jazeera", "AL-JAZEERA", " al jazeera "])
def test_a_site_name_matches_ignoring_spaces_and_punctuation(source: str) -> None:
    assert _parse(source=source).matches(Document("x", "T", "Body.", site_name="Al Jazeera"))


def test_source_ignores_accents_and_matches_a_wire_author() -> None:
    telegramme = Document("x", "T", "Body.", site_name="Le Télégramme")
    wire = Document("y", "T", "Body.", author="AFP", site_name="The Moscow Times")
    assert [_parse(source=s).matches(telegramme) for s in ("le telegramme", "LE TÉLÉGRAMME", "telegramme")] == [
        True, True, False]
    assert [_parse(source=s).matches(wire) for s in ("afp", "AFP", "themoscowtimes", "reuters")] == [
        True, True, True, False]


# ---- inside retrieval ------------------------------------------------------------------------------------------
def test_a_filter_excluding_the_best_document_still_returns_k_passages(service: QAService) -> None:
    snap = service.store.snapshot
    unfiltered = [p.doc_id for p in service.search(MEET_Q, 5)]
    assert unfiltered == [MILLEY_DOC, MILLEY_DOC, MILLEY_DOC, BBC, MILLEY_DOC]  # dropping them would leave one
    since = _parse(since="2021-11-01")
    filtered = service.search(MEET_Q, 5, since)
    assert [p.doc_id for p in filtered] == [BBC, REUTERS, TASS, TASS, MOSCOW_TIMES_DOC]
    expected = _restricted_ranking(service.retriever, snap, MEET_Q, 5, DATED)
    assert [(p.doc_id, p.start, p.end) for p in filtered] == [
        (snap.passages[i].doc_id, snap.passages[i].start, snap.passages[i].end) for i in expected]


@pytest.mark.parametrize(
    "values",
    [{"since": "2021-11-24"}, {"until": "2021-11-24"}, {"source": "com"}, {"source": "TASS"},
     {"source": "Example Wire"}, {"source": "00"}, {"since": "2021-11-21", "source": "com"}],
)
@pytest.mark.parametrize("question", QUESTIONS)
def test_filtered_ranking_is_the_ranking_of_the_allowed_passages(service: QAService, values: dict[str, str],
                                                                 question: str) -> None:
    snap = service.store.snapshot
    filters = _parse(**values)
    allowed = set(filters.doc_ids(snap))
    hits = service.retriever.search(snap, question, 50, filters)
    assert [h.passage_id for h in hits] == _restricted_ranking(service.retriever, snap, question, 50, allowed)
    # k above the allowed passages: every one of them comes back, nothing else
    assert len(hits) == _passages_of(snap, allowed)
    assert {snap.passages[h.passage_id].doc_id for h in hits} == allowed


def test_ask_reads_and_cites_only_allowed_documents(service: QAService) -> None:
    for values, allowed in [({"since": "2021-11-01"}, DATED), ({"source": "themoscowtimes"}, {MOSCOW_TIMES_DOC}),
                            ({"until": "2021-11-23"}, {TASS})]:
        answer = service.ask(MEET_Q, 5, _parse(**values))
        assert len(answer.passages) == min(5, _passages_of(service.store.snapshot, allowed))
        assert {p.doc_id for p in answer.passages} <= allowed
        assert {c.doc_id for c in answer.citations} <= allowed


def test_chat_applies_the_filters_to_both_readings(service: QAService) -> None:
    messages = [("user", "Where did Milley meet Gerasimov?"), ("assistant", "Helsinki"), ("user", "What did he say?")]
    answer = service.chat(messages, 5, _parse(source="reuters"))
    assert [p.doc_id for p in answer.passages] == [REUTERS, REUTERS]
    assert {c.doc_id for c in answer.citations} <= {REUTERS}


def test_filters_that_leave_no_document(service: QAService) -> None:
    filters = _parse(since="2030-01-01", source="bbc")
    answer = service.ask(MEET_Q, 5, filters)
    assert answer.answer is None
    assert (answer.question, answer.confidence, answer.citations, answer.passages) == (MEET_Q, 1.0, [], [])
    assert answer.abstain_reason == "no article matches the filters (since 2030-01-01, source bbc)"
    assert service.search(MEET_Q, 5, _parse(source="nytimes")) == []
    assert service.retriever.search(service.store.snapshot, MEET_Q, 5, filters) == []
    chat = service.chat([("user", "Who met?"), ("user", "And where?")], 3, _parse(until="1999-12-31"))
    assert (chat.answer, chat.passages, chat.abstain_reason) == (None, [], "no article matches the filters "
                                                                           "(until 1999-12-31)")


# ---- unchanged without filters, per question in a batch -----------------------------------------------------------
def test_unfiltered_results_are_exactly_the_previous_ones(service: QAService) -> None:
    snap, retriever = service.store.snapshot, service.retriever
    queries = retriever.queries(QUESTIONS)
    assert retriever.search_batch(snap, queries, 10) == _old_search_batch(retriever, snap, QUESTIONS, 10)
    assert retriever.search_batch(snap, queries, 10, filters=[None] * 3) == _old_search_batch(
        retriever, snap, QUESTIONS, 10)
    old = _old_search_batch(retriever, snap, [MEET_Q], 5)[0]
    assert [(p.doc_id, p.start, p.end, p.score) for p in service.search(MEET_Q, 5)] == [
        (snap.passages[h.passage_id].doc_id, snap.passages[h.passage_id].start, snap.passages[h.passage_id].end,
         round(min(1.0, max(0.0, h.score)), 4)) for h in old]


def test_a_filter_passing_every_document_ranks_exactly_as_no_filter(embedder: Embedder, tmp_path: Path) -> None:
    store = IndexStore.open(tmp_path / "index", embedder, create=True)
    store.update(documents()[:3])  # all dated and from .com / .co.uk hosts
    retriever = Retriever(QuestionEncoder(embedder))
    snap = store.snapshot
    filters = _parse(since="2021-11-20", until="2021-12-01")
    selection = snap.selection(filters)
    assert (selection.doc_ids, selection.passage_ids, selection.selector) == ((TASS, BBC, REUTERS), None, None)
    queries = retriever.queries(QUESTIONS)
    assert retriever.search_batch(snap, queries, 6, filters=[filters] * 3) == retriever.search_batch(snap, queries, 6)


def test_questions_in_one_batch_keep_their_own_filters(service: QAService) -> None:
    snap, retriever = service.store.snapshot, service.retriever
    since, tass, none = _parse(since="2021-11-24"), _parse(source="tass"), _parse(since="2031-01-01")
    questions = [MEET_Q, MEET_Q, QUESTIONS[1], MEET_Q, QUESTIONS[2], QUESTIONS[1]]
    filters = [None, since, tass, none, since, None]
    batch = retriever.search_batch(snap, retriever.queries(questions), 4, filters=filters)
    assert batch == [retriever.search(snap, q, 4, f) for q, f in zip(questions, filters, strict=True)]
    assert [Counter(snap.passages[h.passage_id].doc_id for h in hits) for hits in batch][1:4] == [
        Counter({MOSCOW_TIMES_DOC: 2, BBC: 1, REUTERS: 1}), Counter({TASS: 2}), Counter()]


def test_concurrent_requests_with_different_filters_do_not_mix(service: QAService) -> None:
    filters = (None, _parse(source="com"), _parse(until="2021-11-24"), _parse(source="f4"))
    cases = [(q, f) for q in QUESTIONS for f in filters] * 4
    snap = service.store.snapshot
    allowed = {f: set(f.doc_ids(snap)) if f is not None else ALL_DOCS for f in filters}

    def run_all() -> list[list[Passage]]:
        with ThreadPoolExecutor(8) as pool:
            return list(pool.map(lambda case: service.search(case[0], 6, case[1]), cases))

    # Questions encoded in one batch (MicroBatcher) get slightly different vectors than alone (int8 activations are
    # quantized per batch), so with a cold cache only the documents are compared; with a warm one, everything.
    saved = dict(service.encoder._cache)
    service.encoder._cache.clear()
    try:
        for (_, f), passages in zip(cases, run_all(), strict=True):
            assert len(passages) == min(6, _passages_of(snap, allowed[f]))
            assert {p.doc_id for p in passages} <= allowed[f]
        expected = {(q, f): service.search(q, 6, f) for q, f in cases}
        assert run_all() == [expected[case] for case in cases]
    finally:  # the other tests' exact rankings were taken with the singly encoded vectors
        service.encoder._cache.clear()
        service.encoder._cache.update(saved)


# ---- selections: cached per snapshot, recomputed for a new one ----------------------------------------------------
def test_selection_is_cached_and_a_new_snapshot_is_filtered_afresh(index_copy: Path, embedder: Embedder) -> None:
    store = IndexStore.open(index_copy, embedder)
    retriever = Retriever(QuestionEncoder(embedder))
    filters = _parse(source="com")
    before = store.snapshot.selection(filters)
    assert store.snapshot.selection(_parse(source="com")) is before
    assert before.doc_ids == (MOSCOW_TIMES_DOC,)
    store.update(documents())
    after = store.snapshot.selection(filters)
    assert after.doc_ids == (MOSCOW_TIMES_DOC, TASS, REUTERS)
    hits = retriever.search(store.snapshot, MEET_Q, 50, filters)
    assert {store.snapshot.passages[h.passage_id].doc_id for h in hits} == {MOSCOW_TIMES_DOC, TASS, REUTERS}
    store.remove(TASS)
    hits = retriever.search(store.snapshot, MEET_Q, 50, filters)
    assert {store.snapshot.passages[h.passage_id].doc_id for h in hits} == {MOSCOW_TIMES_DOC, REUTERS}


# ---- the FAISS selector on both index families ---------------------------------------------------------------------
def _allowed_sentences(snap: IndexSnapshot, doc_ids: set[str]) -> set[int]:
    return {i for i, s in enumerate(snap.sentences) if s.doc_id in doc_ids}


@pytest.mark.parametrize("spec", ["IDMap2,Flat", "IVF4,Flat", "IVF4,SQ8"])
def test_selector_searches_exactly_the_allowed_vectors(service: QAService, spec: str) -> None:
    base = service.store.snapshot
    vectors = base.sentence_vectors
    index = build_faiss(vectors, spec, train=np.repeat(vectors, 3, axis=0), ids=np.arange(len(vectors)))
    snap = IndexSnapshot.build(base.entries, base.dim, faiss_index=index)  # sequential ids, as the index holds
    retriever = service.retriever
    allowed = {TASS, BBC, MOSCOW_TIMES_DOC}
    selection = snap.selection(_parse(since="2021-11-01", until="2021-11-30"))
    assert set(selection.doc_ids) == allowed
    qvec = retriever.encoder.encode([MEET_Q])
    scores, sids = snap.search_vectors(qvec, DENSE_CANDIDATES, selection.selector)
    found = [int(s) for s in sids[0] if s >= 0]
    assert sorted(found) == sorted(_allowed_sentences(snap, allowed))  # every allowed vector, and only those
    assert np.all(np.diff(scores[0][: len(found)]) <= 1e-6)  # best first
    hits = retriever.search(snap, MEET_Q, 5, _parse(since="2021-11-01", until="2021-11-30"))
    assert len(hits) == 5 and {snap.passages[h.passage_id].doc_id for h in hits} <= allowed
    if "SQ8" not in spec:  # exact codes: the same ranking as the service's own index
        expected = service.retriever.search(base, MEET_Q, 5, _parse(since="2021-11-01", until="2021-11-30"))
        assert [snap.passages[h.passage_id] for h in hits] == [base.passages[h.passage_id] for h in expected]
