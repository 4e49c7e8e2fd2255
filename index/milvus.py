"""The Milvus backend (``QA_BACKEND=milvus``): documents in a Milvus engine or cluster, any number of stateless API
replicas in front. Collections and filter expressions: ``index.milvus_schema``; the read side: ``index.milvus_view``.

Writes: rows of a new document version are upserted first, then its head (the commit point), then the rows of other
versions are deleted; each call returns only after Milvus acknowledged every step. Reads use Strong consistency, so
a write acknowledged through one replica is seen by the next question through any other.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from index.chunking import ChunkParams, layout_digest, split_today
from index.documents import Document, check_storable, content_hash
from index.embedder import Embedder
from index.errors import (
    DocumentNotFoundError,
    IndexMismatchError,
    IndexMissingError,
    InvalidInputError,
    QAError,
    StorageError,
)
from index.ingest import DetectedEncoding, Skipped
from index.milvus_jobs import MilvusJobJournal
from index.milvus_schema import (
    COLLECTIONS,
    LEXICAL_BYTES,
    MAX_ID_BYTES,
    MAX_TERM_BYTES,
    OR_TERMS,
    TEXT_PART_CHARS,
    doc_hash,
    dummy_vector,
    filter_fields,
    manifest_json,
    quote,
    schemas,
    term_hash,
    version_exprs,
)
from index.records import layout
from index.store import EMBED_BATCH_DOCS, UpdateReport
from index.text import terms

log = logging.getLogger(__name__)

INSERT_ROWS = 1_000  # rows per insert call (milvus-lite 2.5.1 slows to ~200 rows/s in 5,000-row batches)
STRONG = "Strong"
_LITE_NAME = re.compile(r"^[A-Za-z0-9.\-_]{1,36}$")


def _brief(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= 200 else text[:197] + "..."


class MilvusStore:
    """Documents in Milvus collections named ``{prefix}_{heads,documents,sentences,passages,terms,meta}``."""

    def __init__(self, client: Any, uri: str, embedder: Embedder, params: ChunkParams, prefix: str,
                 engine: Any = None) -> None:
        self.client, self.uri, self.embedder, self.params, self.prefix = client, uri, embedder, params, prefix
        self.engine = engine  # the milvus-lite engine this process started (None: a running engine)
        self.stamps: dict[str, str] = {}
        self.fresh = False
        # duplicate detection is not implemented here: every text is indexed as it is, a copy under its own id
        self.finds_duplicates = False
        self.is_writer = False  # no folder lock: any number of processes write
        self._journal: MilvusJobJournal | None = None
        from index.milvus_view import EntryCache

        self.entry_cache = EntryCache()  # document versions read recently (content-addressed: never stale)
        self.search_pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="qa-milvus-search")

    # ---- connecting ----------------------------------------------------------------------------------------
    @classmethod
    def open(cls, uri: str, embedder: Embedder, params: ChunkParams | None = None, prefix: str = "newsqa",
             create: bool = False) -> MilvusStore:
        """Connect to ``uri`` (a local file path starts milvus-lite on it; ``unix:/...sock`` or ``http://host:port``
        connects to a running engine) and check or create the collections."""
        from pymilvus import MilvusClient, MilvusException

        # its iterators warn of a fallback that is harmless; set after the import, which configures its logging
        logging.getLogger("pymilvus").setLevel(logging.ERROR)

        engine, target = None, uri
        if not (uri.startswith(("unix:", "http://", "https://", "tcp://"))):
            engine, target = start_lite(Path(uri))
        try:  # a connection of its own: pymilvus shares one per URI, and closing a shared one breaks the others
            client = MilvusClient(uri=target, alias=f"newsqa-{uuid.uuid4().hex}")
        except MilvusException as exc:
            if engine is not None:
                engine.stop()
            raise StorageError(f"cannot connect to Milvus at {uri} ({_brief(exc)}); check QA_MILVUS_URI") from None
        store = cls(client, target, embedder, params or ChunkParams(), prefix, engine)
        try:
            store._prepare(create)
        except BaseException:
            store.close()
            raise
        return store

    def name(self, collection: str) -> str:
        return f"{self.prefix}_{collection}"

    def _prepare(self, create: bool) -> None:
        expected = manifest_json(self.embedder.name, self.embedder.dim, self.params.as_dict())
        existing = set(self.client.list_collections())
        if self.name("meta") in existing:
            self.client.load_collection(self.name("meta"))
            rows = self.client.query(self.name("meta"), filter='pk == "manifest"', output_fields=["value"],
                                     consistency_level=STRONG)
            found = rows[0]["value"] if rows else None
            if found != expected:
                raise IndexMismatchError(
                    f"the Milvus collections {self.prefix}_* at {self.uri} were built with {found} but this run uses "
                    f"{expected}; index into another QA_MILVUS_COLLECTION_PREFIX, or drop them and re-index")
        elif not create:
            raise IndexMissingError(f"no index in Milvus at {self.uri} (prefix {self.prefix!r}); run `qa index PATH` "
                                    "with the same QA_BACKEND, QA_MILVUS_URI and QA_MILVUS_COLLECTION_PREFIX first")
        else:
            self.fresh = True
        for key, (schema, index) in schemas(self.client, self.embedder.dim).items():
            name = self.name(key)
            if name not in existing:
                self.client.create_collection(name, schema=schema, index_params=index, consistency_level=STRONG)
            self.client.load_collection(name)
        if self.fresh:  # the manifest last: collections without it are an unfinished creation, finished next time
            self._upsert("meta", [{"pk": "manifest", "value": expected, "v": dummy_vector()}])

    def job_journal(self) -> MilvusJobJournal:
        """Job records in the ``jobs`` collection, where every replica reads them (``index.milvus_jobs``)."""
        if self._journal is None:
            self._journal = MilvusJobJournal(self)
        return self._journal

    def close(self) -> None:
        if self._journal is not None:
            self._journal.close()
        self.search_pool.shutdown(wait=True)
        self.client.close()
        if self.engine is not None:
            self.engine.stop()
            self.engine = None

    def __enter__(self) -> MilvusStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- reading -------------------------------------------------------------------------------------------
    @property
    def snapshot(self) -> Any:
        """A fresh view: each request reads what Milvus holds when it asks (Strong consistency)."""
        from index.milvus_view import MilvusView

        return MilvusView(self)

    def manifest(self) -> dict:
        view = self.snapshot
        return {"format_version": 1, "model": {"name": self.embedder.name, "dim": self.embedder.dim},
                "chunking": self.params.as_dict(), "backend": "milvus", "uri": self.uri, "prefix": self.prefix,
                "faiss": {"spec": "milvus:FLAT", "metric": "inner_product", "unit": "sentence"},
                "counts": {"documents": len(view.entries), "sentences": view.n_sentences,
                           "passages": view.n_passages}, **self.stamps}

    def heads(self, doc_ids: Sequence[str], fields: Sequence[str] = ("doc_id", "version", "sha256", "meta")
              ) -> dict[str, dict]:
        """The head rows of ``doc_ids`` that exist, by id."""
        out: dict[str, dict] = {}
        for i in range(0, len(doc_ids), INSERT_ROWS):
            part = doc_ids[i:i + INSERT_ROWS]
            expr = f"pk in [{', '.join(quote(doc_hash(d)) for d in part)}]"
            for row in self.query("heads", expr, list(fields), limit=len(part)):
                out[row["doc_id"]] = row
        return out

    def query(self, collection: str, expr: str, fields: list[str], limit: int = 16_384) -> list[dict]:
        from pymilvus import MilvusException

        try:
            return list(self.client.query(self.name(collection), filter=expr, output_fields=fields, limit=limit,
                                          consistency_level=STRONG))
        except MilvusException as exc:
            raise StorageError(f"reading from Milvus at {self.uri} failed ({_brief(exc)})") from None

    def count(self, collection: str, expr: str = "") -> int:
        from pymilvus import MilvusException

        try:
            rows = self.client.query(self.name(collection), filter=expr, output_fields=["count(*)"],
                                     consistency_level=STRONG)
        except MilvusException as exc:
            raise StorageError(f"reading from Milvus at {self.uri} failed ({_brief(exc)})") from None
        return int(rows[0]["count(*)"]) if rows else 0

    def iter_heads(self, fields: Sequence[str] = ("doc_id", "source")) -> Iterator[dict]:
        """Every head row, in pages (the whole collection: listing, and removal of vanished files)."""
        it = self.client.query_iterator(self.name("heads"), batch_size=1_000, filter="",
                                        output_fields=list(fields), consistency_level=STRONG)
        try:
            while page := it.next():
                yield from page
        finally:
            it.close()

    # ---- writing -------------------------------------------------------------------------------------------
    def update(self, items: Iterable[Document | Skipped], remove_missing_under: Iterable[Path] = (),
               on_progress: Callable[[int], None] | None = None) -> UpdateReport:
        """Add new documents, replace changed ones, drop vanished ones under the given folders; no duplicates.

        Written in batches of ``EMBED_BATCH_DOCS`` documents, each acknowledged by Milvus before the next; if a
        batch fails, the batches before it stay written (each document is all old or all new) and the error says so."""
        report = UpdateReport()
        seen: set[str] = set()
        batch: dict[str, Document] = {}
        for item in items:
            if isinstance(item, Skipped):
                report.skipped.append(item)
                continue
            check_storable(item)
            check_id(item.doc_id)
            if item.encoding is not None:
                report.encodings.append(DetectedEncoding(item.doc_id, item.source or item.doc_id, item.encoding))
            seen.add(item.doc_id)
            batch.pop(item.doc_id, None)
            batch[item.doc_id] = item  # a later copy of the same id wins, as in the embedded store
            if len(batch) >= EMBED_BATCH_DOCS:
                self._write_batch(list(batch.values()), report, on_progress)
                batch = {}
        self._write_batch(list(batch.values()), report, on_progress)
        roots = [str(Path(p).resolve()) for p in remove_missing_under]
        if roots:
            gone = [row["doc_id"] for row in self.iter_heads()
                    if row["doc_id"] not in seen and any(_is_under(row["source"], r) for r in roots)]
            self._delete(gone)
            report.removed.extend(gone)
        return report

    def add(self, docs: list[Document]) -> UpdateReport:
        return self.update(docs)

    def stored_documents(self) -> Iterator[Document]:
        """Every document as stored, read ``OR_TERMS`` at a time, whether or not its layout was stored with it
        (``qa index --resplit`` gives them back to ``update``)."""
        from index.milvus_view import stored_document

        ids = [row["doc_id"] for row in self.iter_heads(("doc_id",))]
        view = self.snapshot
        for lo in range(0, len(ids), OR_TERMS):
            heads = self.heads(ids[lo:lo + OR_TERMS])
            parts = view.parts(heads)
            for d, head in heads.items():
                yield stored_document(head, parts.get(d, []))[0]

    def remove(self, doc_id: str) -> None:
        if not self.heads([doc_id], ("doc_id",)):
            raise DocumentNotFoundError(f"no document with id {doc_id!r}; GET /documents lists the ids")
        self._delete([doc_id])

    def remove_selected(self, select: Callable[[Any], list[str]], dry_run: bool = False) -> list[str]:
        """Remove the documents ``select`` picks from a fresh view (their heads first, then their rows); with
        ``dry_run`` only return them. Unlike the embedded store, another replica may write in between."""
        ids = list(dict.fromkeys(select(self.snapshot)))
        if ids and not dry_run:
            self._delete(ids)
        return ids

    def _write_batch(self, docs: list[Document], report: UpdateReport,
                     on_progress: Callable[[int], None] | None) -> None:
        if not docs:
            return
        heads = self.heads([d.doc_id for d in docs], ("doc_id", "sha256", "meta"))
        changed, pieces = [], []
        for doc in docs:
            old = heads.get(doc.doc_id)
            sentences, chunks, digest = split_today(doc, self.params)
            # the same text split as today's rules split it, and that split stored (a document written before
            # layouts were stored, or split by earlier rules, is written again)
            meta = json.loads(old["meta"]) if old is not None else {}
            if old is not None and old["sha256"] == content_hash(doc) and meta["spans"] == digest \
                    and "layout_parts" in meta:
                report.unchanged.append(doc.doc_id)
            else:
                changed.append(doc)
                pieces.append((sentences, chunks))
        unchanged = len(docs) - len(changed)
        if on_progress and unchanged:
            on_progress(unchanged)
        if not changed:
            return
        vectors = self.embedder.encode([s.text for sentences, _ in pieces for s in sentences])
        rows, pos = [], 0
        for doc, (sentences, chunks) in zip(changed, pieces, strict=True):
            rows.append(document_rows(doc, sentences, chunks, vectors[pos:pos + len(sentences)]))
            pos += len(sentences)
        self.write_rows(rows)
        for doc in changed:
            (report.changed if doc.doc_id in heads else report.added).append(doc.doc_id)
        if on_progress:
            on_progress(len(changed))

    def write_rows(self, documents: Sequence[dict[str, list[dict]]]) -> None:
        """Write documents given as ``document_rows``: their rows, then their heads (from then on these versions
        answer), then the deletion of any other version's rows."""
        if not documents:
            return
        rows: dict[str, list[dict]] = {k: [r for d in documents for r in d[k]] for k in documents[0]}
        try:
            for key in ("documents", "sentences", "passages", "terms"):
                self._upsert(key, rows[key])
            self._upsert("heads", rows["heads"])  # the commit point
            for stale in version_exprs([(h["doc_id"], h["version"]) for h in rows["heads"]], "!="):
                for key in ("documents", "sentences", "passages", "terms"):
                    self.client.delete(self.name(key), filter=stale)
        except QAError:
            raise
        except Exception as exc:
            raise StorageError(f"writing to Milvus at {self.uri} failed ({_brief(exc)}); the documents of this "
                               "batch are each either as before or fully written; send them again") from None

    def _delete(self, doc_ids: Sequence[str]) -> None:
        """The heads first (from then on the documents answer nothing), then their rows."""
        for i in range(0, len(doc_ids), INSERT_ROWS):
            part = doc_ids[i:i + INSERT_ROWS]
            try:
                self.client.delete(self.name("heads"), filter=f"pk in [{', '.join(quote(doc_hash(d)) for d in part)}]")
                expr = f"doc_id in [{', '.join(quote(d) for d in part)}]"
                for key in ("documents", "sentences", "passages", "terms"):
                    self.client.delete(self.name(key), filter=expr)
            except Exception as exc:
                raise StorageError(f"deleting from Milvus at {self.uri} failed ({_brief(exc)}); send it again") \
                    from None

    def _upsert(self, collection: str, rows: list[dict]) -> None:
        for i in range(0, len(rows), INSERT_ROWS):
            self.client.upsert(self.name(collection), rows[i:i + INSERT_ROWS])

    def drop(self) -> None:
        """Drop every collection of this prefix (``qa index --rebuild``, tests)."""
        for key in COLLECTIONS:
            self.client.drop_collection(self.name(key))


def check_id(doc_id: str) -> None:
    if len(doc_id.encode("utf-8")) > MAX_ID_BYTES:
        raise InvalidInputError(f"document id {doc_id[:40]!r}... is longer than {MAX_ID_BYTES} bytes, the most the "
                                "Milvus backend stores; give it a shorter id")


def document_rows(doc: Document, sentences: Sequence[Any], chunks: Sequence[Any], vectors: np.ndarray
                  ) -> dict[str, list[dict]]:
    """Every row ``doc`` is stored as, under the version named by its content hash and layout (rewriting the same
    content split the same way rewrites the same rows: a retried batch never duplicates anything). The layout is
    stored after the text's parts, so a document reads back split as it was written, whatever the rules of the
    reading code."""
    sha, digest = content_hash(doc), layout_digest(sentences, chunks)
    dh, version = doc_hash(doc.doc_id), hashlib.sha256(f"{sha}:{digest}".encode()).hexdigest()[:16]
    base = {"doc_id": doc.doc_id, "version": version}
    fields = filter_fields(doc)
    owners: list[list[int]] = [[] for _ in sentences]
    for c, chunk in enumerate(chunks):
        for i in range(chunk.first_sentence, chunk.last_sentence + 1):
            owners[i].append(c)
    parts = [doc.text[i:i + TEXT_PART_CHARS] for i in range(0, len(doc.text), TEXT_PART_CHARS)] or [""]
    stored = json.dumps(layout(sentences, chunks), separators=(",", ":"))
    layout_parts = [stored[i:i + TEXT_PART_CHARS] for i in range(0, len(stored), TEXT_PART_CHARS)]
    sentence_terms = [terms(s.text) for s in sentences]
    title = terms(doc.title)  # every passage is indexed under its article's title too, as the local store does
    # a headline word no sentence holds is still a word of the article (``index.lexicon.Vocabulary``): a row counting
    # no sentence
    counts: dict[str, int] = dict.fromkeys(title, 0)
    for ts in sentence_terms:
        for t in set(ts):
            counts[t] = counts.get(t, 0) + 1
    meta = {**doc.metadata(), "sentences": len(sentences), "passages": len(chunks), "chars": len(doc.text),
            "parts": len(parts), "layout_parts": len(layout_parts), "spans": digest}
    return {
        "documents": [{"pk": f"{dh}:{version}:{p}", **base, "part": p, "text": text, "v": dummy_vector()}
                      for p, text in enumerate(parts + layout_parts)],
        "sentences": [{"pk": f"{dh}:{version}:{i}", **base, **fields, "idx": i, "p_first": min(own, default=-1),
                       "p_last": max(own, default=-1), "vector": vectors[i].astype(np.float32).tolist()}
                      for i, own in enumerate(owners)],
        "passages": [{"pk": f"{dh}:{version}:{c}", **base, **fields, "idx": c,
                      "lexical": lexical_text(title + [t for i in range(ch.first_sentence, ch.last_sentence + 1)
                                                       for t in sentence_terms[i]])}
                     for c, ch in enumerate(chunks)],
        "terms": [{"pk": f"{dh}:{term_hash(t)}", **base, "term": t, "n": n, "v": dummy_vector()}
                  for t, n in counts.items() if len(t.encode("utf-8")) <= MAX_TERM_BYTES],
        "heads": [{"pk": dh, **base, "sha256": sha, "source": doc.source or "",
                   "meta": json.dumps(meta, ensure_ascii=False), "v": dummy_vector()}],
    }


def lexical_text(passage_terms: Sequence[str]) -> str:
    """A passage's terms for Milvus' whitespace analyzer, cut at a whole term under a VARCHAR's limit."""
    text = " ".join(passage_terms)
    if len(text.encode("utf-8")) <= LEXICAL_BYTES:
        return text
    return text.encode("utf-8")[:LEXICAL_BYTES].decode("utf-8", "ignore").rsplit(" ", 1)[0]




def start_lite(path: Path) -> tuple[Any, str]:
    """Start milvus-lite on the database file ``path``; the engine and its ``unix:`` URI (other processes connect
    to it there: the engine lives as long as this process)."""
    if not _LITE_NAME.match(path.name):
        raise InvalidInputError(f"milvus-lite database file name {path.name!r} must be 1-36 characters of letters, "
                                "digits, '.', '-' or '_' (QA_MILVUS_URI)")
    if not path.parent.is_dir():
        raise InvalidInputError(f"no folder {path.parent} for the milvus-lite database file (QA_MILVUS_URI)")
    import warnings

    with warnings.catch_warnings():  # milvus-lite 2.5.1 imports pkg_resources, which warns of its own removal
        warnings.simplefilter("ignore", UserWarning)
        from milvus_lite.server import Server

    server = Server(str(path))
    uri_file = path.parent / f".{path.name}.uri"
    if not server.init() or not server.start():
        shared = uri_file.read_text(encoding="utf-8").strip() if uri_file.exists() else None
        hint = f"; connect to its engine with QA_MILVUS_URI={shared}" if shared else ""
        raise StorageError(f"milvus-lite could not start on {path}: another process has it open{hint}")
    uri_file.write_text(server.uds_path + "\n", encoding="utf-8")
    return server, server.uds_path


def _is_under(path: str, root: str) -> bool:
    import os

    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)
