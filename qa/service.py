"""The question-answering service: one object that retrieval, answering and document management go through."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import replace
from datetime import date
from pathlib import Path

from index.backend import ReadView, Storage, StoredDocument
from index.documents import Document, check_storable, content_hash
from index.duplicates import DuplicateFinder
from index.errors import DocumentNotFoundError, InvalidInputError, TooLargeError
from index.filters import Filters
from index.ingest import Skipped, load_files
from index.jobs import Job, JobManager, RejectedRecord, WriteGate
from index.store import UpdateReport
from qa.answer import Outcome, answer_batch, null_answer, passage_of
from qa.config import AnswerParams, Settings
from qa.conversation import choose_answer, leans_on_context, resolve_turn
from qa.events import EVENT_PASSAGES, answer_event, event_question
from qa.models import Answer, Hit, Passage
from qa.question import Query
from qa.reader.model import Reader
from qa.retrieve import QuestionEncoder, Retriever


class QAService:
    """Answers questions over a store of either backend (index.backend.Storage); safe to call from many threads."""

    def __init__(self, store: Storage, settings: Settings, reader: Reader | None = None,
                 today: Callable[[], date] = date.today) -> None:
        self.store = store
        self.settings = settings
        self.params = settings.answer_params()
        self.today = today  # what "yesterday" or "last week" in a question is relative to
        self.reader = reader or Reader(settings.reader_graph, threads=settings.threads)
        store.stamps["reader"] = self.reader.version
        self.encoder = QuestionEncoder(store.embedder)
        self.retriever = Retriever(self.encoder, settings.fusion, settings.dense_weight)
        self.writes = WriteGate()
        self.duplicates = DuplicateFinder()  # signs the collection's articles at the first write
        # job records outlive the process: beside the embedded index (its writer), or in Milvus for every replica
        self.jobs = JobManager(self._write_batch, settings.job_batch_docs, journal=store.job_journal())

    def warm_up(self) -> None:
        """Load the encoders now (they load on first use), so a server answers its first write or question as fast
        as the next ones once it reports ready."""
        self.store.embedder.encode(["The ferry leaves at noon."])
        self.encoder.encode(["When does the ferry leave?"])

    @classmethod
    def from_settings(cls, settings: Settings, build_from_seeds: bool = False, writer: bool = False) -> QAService:
        """Open the index of ``settings.backend``; optionally build it from the seeds when it holds no index at all.
        An index emptied by deletes stays empty, and an embedded one missing only its ``CURRENT`` is recovered, not
        rebuilt. With ``writer`` an embedded store holds the folder's writer lock (release it with
        ``store.close()``); without it nothing on disk is changed by opening. A Milvus store takes writes from any
        number of processes."""
        store = settings.open_store(create=build_from_seeds, writer=writer)
        try:
            service = cls(store, settings)  # stamps the reader version before anything is written
            if build_from_seeds and store.fresh:
                store.update(load_files([settings.seeds_dir]), remove_missing_under=[settings.seeds_dir])
        except BaseException:
            store.close()
            raise
        return service

    # ---- questions -----------------------------------------------------------------------------------------
    def clean_question(self, question: str) -> str:
        """Strip, replace unencodable characters, and enforce the length limit."""
        if not isinstance(question, str):
            raise InvalidInputError("question must be a string")
        cleaned = question.replace("\x00", " ").encode("utf-8", "replace").decode("utf-8").strip()
        if not cleaned:
            raise InvalidInputError("question is empty; ask something about the articles")
        # counted as sent, as the API schema's maxLength counts: 422 like any value the schema refuses
        if len(question) > self.settings.max_question_chars:
            raise InvalidInputError(
                f"question is {len(question):,} characters; the limit is {self.settings.max_question_chars:,}"
            )
        return cleaned

    def _top_k(self, top_k: int | None) -> int:
        k = self.settings.top_k if top_k is None else top_k
        if not 1 <= k <= self.settings.max_top_k:
            raise InvalidInputError(f"top_k must be between 1 and {self.settings.max_top_k}, got {k}")
        return k

    def ask(self, question: str, top_k: int | None = None, filters: Filters | None = None) -> Answer:
        return self.ask_batch([question], top_k, filters)[0]

    def ask_batch(self, questions: Sequence[str], top_k: int | None = None, filters: Filters | None = None,
                  params: AnswerParams | None = None) -> list[Answer]:
        """Answers for several questions with one encoder call; with ``filters``, from the documents they allow only
        (a null answer without passages when they allow none)."""
        return [o.answer for o in self.ask_scored(questions, top_k, filters, params)]

    def ask_scored(self, questions: Sequence[str], top_k: int | None = None, filters: Filters | None = None,
                   params: AnswerParams | None = None) -> list[Outcome]:
        """``ask_batch`` with the candidates each answer was chosen from, scored (what eval/tuning/ fits and sweeps
        on); ``params`` in place of the service's own (``self.params``, from its settings)."""
        cleaned = [self.clean_question(q) for q in questions]
        return self._answer(cleaned, top_k, filters, params or self.params)

    def _answer(self, cleaned: Sequence[str], top_k: int | None, filters: Filters | None, params: AnswerParams,
                reader_texts: Sequence[str] | None = None) -> list[Outcome]:
        """Answers for questions already cleaned; ``reader_texts``, when given, are what the reader reads the
        candidates with in place of the questions (which retrieval uses and the answers carry)."""
        k = self._top_k(top_k)
        snap = self.store.snapshot
        if filters is not None and snap.count_passages(filters) == 0:
            return [Outcome(_no_match(q, filters), []) for q in cleaned]
        today = self.today()
        events = [event_question(q, today) for q in cleaned]
        # an event question scans the sentences of more passages; the others' top passages are a prefix of them
        read_width = max(k, params.passages)
        width = max(read_width, EVENT_PASSAGES if any(events) else 0)
        queries = self.retriever.queries(cleaned, reader_texts)
        hits = self.retriever.search_batch(snap, queries, width, None if filters is None else [filters] * len(queries))
        read = [i for i, event in enumerate(events) if event is None]
        outcomes = dict(zip(read, self._read(snap, [queries[i] for i in read], [hits[i][:read_width] for i in read],
                                             params), strict=True))
        for i, event in enumerate(events):
            if event is not None:
                outcomes[i] = Outcome(answer_event(snap, event, hits[i], snap.count_passages(filters)), [])
        return [Outcome(o.answer.model_copy(update={"passages": o.answer.passages[:k]}), o.scored)
                for o in (outcomes[i] for i in range(len(cleaned)))]

    def _read(self, snap: ReadView, queries: Sequence[Query], hits: Sequence[list[Hit]],
              params: AnswerParams) -> list[Outcome]:
        """The reader's answers (none to give when every question of the batch is an event question)."""
        if not queries:
            return []
        return answer_batch(snap, self.reader, queries, hits, params)

    def chat(self, messages: Sequence[tuple[str, str]], top_k: int | None = None,
             filters: Filters | None = None) -> Answer:
        """Answer the last user turn, resolved against earlier turns into a standalone question."""
        cleaned = [(role, self.clean_question(content) if role == "user" else content) for role, content in messages]
        turn = resolve_turn(cleaned)
        bare = next(content.strip() for role, content in reversed(cleaned) if role == "user" and content.strip())
        if turn.question == bare or event_question(bare, self.today()) is not None:
            # "What happened on Tuesday?" after another question is a fresh question, not a follow-up of it
            return self._answer([bare], top_k, filters, self.params)[0].answer
        # A follow-up may also stand alone ("Who is Shoigu?"): it is read alone too, so a new topic is not dragged
        # back to the old one (qa.conversation.choose_answer says which reading answers). A completed follow-up is
        # also read as written from the sentences the completed question retrieves: a rewrite built on a wrong
        # earlier answer ("What was K2 better known as?") then still has the turn as the user wrote it; the reader
        # answers "For how long?" from the right sentence best as written, "From whom?" best with the earlier
        # question beside it.
        variants = [(bare, bare), (turn.question, turn.reader_question)]
        if turn.reader_question != bare:
            variants.append((turn.question, bare))
        if turn.reader_question != turn.question:
            variants.append((turn.question, turn.question))
        # each turn was held to the question limit above; a completed one may be longer than the limit
        alone, *readings = [o.answer for o in self._answer([q for q, _ in variants], top_k, filters, self.params,
                                                            reader_texts=[r for _, r in variants])]
        return choose_answer(alone, readings, leans_on_context(bare))

    def search(self, query: str, k: int | None = None, filters: Filters | None = None) -> list[Passage]:
        """The ``k`` best passages, from the documents ``filters`` allow when given (none when they allow none)."""
        kk = self._top_k(k)
        q = self.clean_question(query)
        snap = self.store.snapshot
        return [passage_of(snap, h) for h in self.retriever.search(snap, q, kk, filters)]

    # ---- documents -----------------------------------------------------------------------------------------
    def documents(self) -> list[StoredDocument]:
        """Every indexed document with its passages and sentences, in index order."""
        return list(self.store.snapshot.entries.values())

    def document(self, doc_id: str) -> StoredDocument:
        entry = self.store.snapshot.entries.get(doc_id)
        if entry is None:
            raise DocumentNotFoundError(f"no document with id {doc_id!r}; GET /documents lists the ids")
        return entry

    def add_documents(self, docs: list[Document], allow_duplicate: bool = False) -> UpdateReport:
        """Index documents now; the change is on disk before this returns and before questions see it, and an
        existing id is replaced, never duplicated. One bad document refuses the whole call. A document with the
        same text as another under another id is not indexed (``report.skipped`` names it with ``duplicate_of``)
        unless ``allow_duplicate``; a near-duplicate is indexed as a copy (``Document.duplicate_of``)."""
        self.check_documents(docs)
        with self.writes.interactive():
            return self.store.update(self._copies(docs, allow_duplicate))

    @property
    def duplicates_unchecked(self) -> str | None:
        """Why writes do not look for duplicates, on a backend where they do not; None where they do."""
        if self.store.finds_duplicates:
            return None
        return ("duplicate detection is not available on the milvus backend: every document is indexed as it is, "
                "a copy under its own id (allow_duplicate changes nothing)")

    def _copies(self, items: Iterable[Document | Skipped],
                allow_duplicate: bool = False) -> Iterator[Document | Skipped]:
        """Each document with ``duplicate_of`` set to the article it copies (the original of a copy; None when it
        copies none), or, for the same text as another article under another id, a Skipped naming that article
        (unless ``allow_duplicate``). It compares with the collection as the write finds it and with the documents of
        the same write before it (two writes of one text at the same moment may both get in: the store embeds outside
        its lock)."""
        if not self.store.finds_duplicates:  # Milvus: every document is indexed as it is (docs/ingestion.md)
            yield from items
            return
        snap = self.store.snapshot
        self.duplicates.sync({d: (e.sha256, e.doc.text) for d, e in snap.entries.items()})
        copies = snap.copies
        for item in items:
            if isinstance(item, Skipped):
                yield item
                continue
            old = snap.entries.get(item.doc_id)
            if old is not None and old.doc.text == item.text:  # the same text again: what it copies stays as it was
                doc = replace(item, duplicate_of=old.doc.duplicate_of)
                self.duplicates.add(doc.doc_id, content_hash(doc), doc.text)
                yield doc
                continue
            # its own copies are not what it copies (a corrected original resembles them)
            match = self.duplicates.find(item.doc_id, item.text, exclude=copies.get(item.doc_id, ()))
            if match is not None and match.exact and not allow_duplicate:
                yield Skipped(item.source or item.doc_id, f"document {item.doc_id!r} has the same text as "
                              f"{match.doc_id!r}, not indexed (allow_duplicate=true or --allow-duplicate indexes it "
                              "as a copy)", item.source, duplicate_of=match.doc_id, doc_id=item.doc_id)
                continue
            root = None if match is None else (snap.original(match.doc_id) if match.doc_id in snap.entries
                                               else match.doc_id)
            doc = replace(item, duplicate_of=root if root != item.doc_id else None)
            self.duplicates.add(doc.doc_id, content_hash(doc), doc.text)
            yield doc

    def submit_documents(self, docs: list[Document], rejected: Sequence[RejectedRecord] = (),
                         allow_duplicate: bool = False) -> Job:
        """Index documents in a background job, committed in batches of ``job_batch_docs``; every document is
        checked first, so one bad document refuses the whole upload and no job is created. ``rejected`` names the
        upload's records that could not be read, for the job's record; duplicates are as in ``add_documents``, named
        in the job's ``duplicates``."""
        self.check_documents(docs)
        return self.jobs.submit(docs, rejected, allow_duplicate)

    def check_documents(self, docs: Sequence[Document]) -> None:
        """Refuse an upload holding a document over ``max_document_chars``, one the index cannot store, or two
        documents with the same id (the second would silently replace the first)."""
        seen: set[str] = set()
        for doc in docs:
            if len(doc.text) > self.settings.max_document_chars:
                raise TooLargeError(self._too_long(doc))
            check_storable(doc)
            if doc.doc_id in seen:
                raise InvalidInputError(f"document id {doc.doc_id!r} occurs twice in the upload; give each record "
                                        "its own id")
            seen.add(doc.doc_id)

    def _write_batch(self, docs: list[Document], on_progress: Callable[[int], None],
                     allow_duplicate: bool) -> UpdateReport:
        """One batch of a background job: requests already waiting to write go first."""
        self.writes.yield_to_waiting()
        return self.store.update(self._copies(docs, allow_duplicate), on_progress=on_progress)

    def _too_long(self, doc: Document) -> str:
        return (f"document {doc.doc_id!r} is {len(doc.text):,} characters, over the "
                f"{self.settings.max_document_chars:,}-character limit (QA_MAX_DOCUMENT_CHARS)")

    def _bounded(self, items: Iterable[Document | Skipped]) -> Iterator[Document | Skipped]:
        """Documents over ``max_document_chars`` become Skipped with the reason; the others pass through."""
        for item in items:
            if isinstance(item, Document) and len(item.text) > self.settings.max_document_chars:
                yield Skipped(item.source or item.doc_id, self._too_long(item), item.source)
            else:
                yield item

    def delete_document(self, doc_id: str) -> None:
        with self.writes.interactive():
            self.store.remove(doc_id)

    def delete_documents(self, doc_ids: Sequence[str] = (), source: str | None = None,
                         dry_run: bool = False) -> list[str]:
        """Remove, in one write, the documents ``doc_ids`` names and every document the ``source`` filter matches
        (site name, author, URL host or doc_id prefix), and return their ids; an unknown id removes nothing
        (DocumentNotFoundError). With ``dry_run`` only return the ids."""
        filters = Filters.parse(source=source) if source is not None else None

        def select(snap: ReadView) -> list[str]:
            unknown = [d for d in doc_ids if d not in snap.entries]
            if unknown:
                many = len(doc_ids) > 1 or filters is not None
                raise DocumentNotFoundError(f"no document with id {unknown[0]!r}; GET /documents lists the ids"
                                            + (" (nothing was removed)" if many else ""))
            return [*doc_ids, *(filters.doc_ids(snap) if filters is not None else [])]

        with self.writes.interactive():
            return self.store.remove_selected(select, dry_run)

    def undated(self, doc_ids: Sequence[str]) -> list[str]:
        """Those of ``doc_ids`` indexed without a publication date (date filters never match them)."""
        entries = self.store.snapshot.entries
        return [d for d in doc_ids if d in entries and entries[d].doc.published is None]

    def index_paths(self, paths: Sequence[Path], on_progress: Callable[[int], None] | None = None,
                    sync: bool = False, allow_duplicate: bool = False) -> UpdateReport:
        """Index the files under ``paths``; with ``sync``, also remove the documents of files gone from the folders
        named (never those of a file that was skipped: it is still there). Duplicates as ``add_documents``."""
        files = load_files(paths, self.settings.max_upload_bytes, self.settings.max_document_chars)
        return self.store.update(self._copies(self._bounded(files), allow_duplicate),
                                 remove_missing_under=[p for p in paths if p.is_dir()] if sync else [],
                                 on_progress=on_progress)


def _no_match(question: str, filters: Filters) -> Answer:
    return null_answer(question, [], 1.0, f"no article matches the filters ({filters.describe()})")

