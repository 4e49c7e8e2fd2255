"""The Milvus data model: seven collections under one prefix, their schemas, and filter expressions.

- ``heads``: one row per document (primary key: a hash of its id) naming the version that answers, its content hash
  and metadata. Upserting it is the commit point of a write; a row of another collection answers only when its
  ``version`` is the head's.
- ``documents``: the text, in parts of at most ``TEXT_PART_CHARS`` characters (a VARCHAR holds 65,535 bytes), so
  every citation offset indexes the exact text, however long the article; then its layout (``index.records.layout``:
  sentence offsets and passages) as JSON in parts of the same size, so a document reads back split as written.
- ``sentences``: one row per sentence with its vector (dense search), its passages and the filter fields.
- ``passages``: one row per passage with its stemmed terms (the same ``index.text.terms`` BM25 uses in the embedded
  backend), whitespace-analyzed into a sparse vector by Milvus' BM25 ``Function`` (k1 1.5, b 0.75, as ours).
- ``terms``: one row per (document, term) with how many of its sentences hold the term: sentence-level document
  frequencies for the reader's coverage and unknown-name checks.
- ``meta``: the manifest (format, model, chunking), checked when the collections are opened.
- ``jobs``: background job records, cancel requests and the heartbeats of the replicas running jobs
  (``index.milvus_jobs``).

Filter fields: ``published`` (YYYY-MM-DD or ""), ``sources`` ("|h<hex>|n<hex>|": every host value and name key a
``source`` filter may match the document by, hex-encoded so no value can act as a LIKE wildcard) and ``doc_key`` (the
folded id, hex, for prefix matches).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any

from index.backend import DocFilter
from index.documents import Document
from index.filters import host_values, name_keys, published_date
from index.text import fold

FORMAT_VERSION = 1
TEXT_PART_CHARS = 16_000  # at most 4 UTF-8 bytes each: 64,000 bytes, under a VARCHAR's 65,535
MAX_ID_BYTES = 512
MAX_TERM_BYTES = 256  # longer "terms" (a run of 256+ letters) are left out of the frequency table
LEXICAL_BYTES = 65_000
COLLECTIONS = ("meta", "heads", "documents", "sentences", "passages", "terms", "jobs")


def doc_hash(doc_id: str) -> str:
    return hashlib.sha256(doc_id.encode("utf-8")).hexdigest()[:32]


def term_hash(term: str) -> str:
    return hashlib.sha1(term.encode("utf-8")).hexdigest()[:16]


def quote(value: str) -> str:
    """A string literal for a Milvus expression."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def hexed(value: str) -> str:
    return value.encode("utf-8").hex()


def filter_fields(doc: Document) -> dict[str, str]:
    """The fields a filter expression reads, for every sentence and passage row of ``doc``."""
    published = published_date(doc)
    return {"published": published.isoformat() if published is not None else "",
            "sources": "|" + "".join(f"h{hexed(v)}|" for v in sorted(host_values(doc)))
                       + "".join(f"n{hexed(k)}|" for k in sorted(name_keys(doc)) if k),
            "doc_key": hexed(fold(doc.doc_id))}


def filter_expr(filters: DocFilter | None) -> str:
    """The Milvus expression for ``filters`` (``index.filters.Filters``: the same meaning, evaluated in the engine)."""
    if filters is None:
        return ""
    parts = []
    if filters.since is not None or filters.until is not None:
        parts.append('published != ""')
    if filters.since is not None:
        parts.append(f'published >= "{filters.since.isoformat()}"')
    if filters.until is not None:
        parts.append(f'published <= "{filters.until.isoformat()}"')
    if filters.source is not None:
        given, value, key = filters.source_forms()  # type: ignore[attr-defined]
        either = [f'doc_key like "{hexed(given)}%"', f'sources like "%|h{hexed(value)}|%"']
        if key:
            either.append(f'sources like "%|n{hexed(key)}|%"')
        parts.append("(" + " or ".join(either) + ")")
    return " and ".join(parts)


def dummy_vector() -> list[float]:
    return [0.0, 1.0]


def manifest_json(model: str, dim: int, chunking: dict[str, int]) -> str:
    return json.dumps({"format_version": FORMAT_VERSION, "model": {"name": model, "dim": dim},
                       "chunking": chunking}, sort_keys=True)


def schemas(client: Any, dim: int) -> dict[str, tuple[Any, Any]]:
    """Schema and index parameters of each collection (``client`` a MilvusClient; pymilvus imported by the caller)."""
    from pymilvus import DataType, Function, FunctionType

    def base(pk_len: int = 256) -> Any:
        s = client.create_schema(auto_id=False, enable_dynamic_field=False)
        s.add_field("pk", DataType.VARCHAR, is_primary=True, max_length=pk_len)
        return s

    def with_doc(s: Any) -> Any:
        s.add_field("doc_id", DataType.VARCHAR, max_length=MAX_ID_BYTES)
        s.add_field("version", DataType.VARCHAR, max_length=32)
        return s

    def filtered(s: Any) -> Any:
        s.add_field("published", DataType.VARCHAR, max_length=10)
        s.add_field("sources", DataType.VARCHAR, max_length=8192)
        s.add_field("doc_key", DataType.VARCHAR, max_length=2 * MAX_ID_BYTES)
        return s

    def index(field: str, kind: str, metric: str, **params: Any) -> Any:
        ip = client.prepare_index_params()
        ip.add_index(field_name=field, index_type=kind, metric_type=metric, params=params)
        return ip

    def dummy(s: Any) -> Any:  # every Milvus collection needs a vector field
        s.add_field("v", DataType.FLOAT_VECTOR, dim=2)
        return s

    meta = dummy(base())
    meta.add_field("value", DataType.VARCHAR, max_length=65_535)
    heads = dummy(with_doc(base()))
    heads.add_field("sha256", DataType.VARCHAR, max_length=64)
    heads.add_field("source", DataType.VARCHAR, max_length=4096)
    heads.add_field("meta", DataType.VARCHAR, max_length=65_535)
    documents = dummy(with_doc(base()))
    documents.add_field("part", DataType.INT32)
    documents.add_field("text", DataType.VARCHAR, max_length=65_535)
    sentences = filtered(with_doc(base()))
    sentences.add_field("idx", DataType.INT32)
    sentences.add_field("p_first", DataType.INT32)
    sentences.add_field("p_last", DataType.INT32)
    sentences.add_field("vector", DataType.FLOAT_VECTOR, dim=dim)
    passages = filtered(with_doc(base()))
    passages.add_field("idx", DataType.INT32)
    passages.add_field("lexical", DataType.VARCHAR, max_length=65_535, enable_analyzer=True,
                       analyzer_params={"tokenizer": "whitespace"})
    passages.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
    passages.add_function(Function(name="bm25", function_type=FunctionType.BM25, input_field_names=["lexical"],
                                   output_field_names=["sparse"]))
    terms = dummy(with_doc(base()))
    terms.add_field("term", DataType.VARCHAR, max_length=MAX_TERM_BYTES)
    terms.add_field("n", DataType.INT32)
    jobs = dummy(base(160))
    jobs.add_field("job_id", DataType.VARCHAR, max_length=64)
    jobs.add_field("kind", DataType.VARCHAR, max_length=8)
    jobs.add_field("rev", DataType.INT64)
    jobs.add_field("part", DataType.INT32)
    jobs.add_field("parts", DataType.INT32)
    jobs.add_field("owner", DataType.VARCHAR, max_length=64)
    jobs.add_field("beat", DataType.DOUBLE)
    jobs.add_field("created", DataType.VARCHAR, max_length=64)
    jobs.add_field("text", DataType.VARCHAR, max_length=65_535)
    flat = index("v", "FLAT", "L2")
    return {
        "meta": (meta, flat), "heads": (heads, flat), "documents": (documents, flat),
        "sentences": (sentences, index("vector", "FLAT", "IP")),
        "passages": (passages, index("sparse", "SPARSE_INVERTED_INDEX", "BM25", bm25_k1=1.5, bm25_b=0.75)),
        "terms": (terms, flat), "jobs": (jobs, flat),
    }


OR_TERMS = 16  # milvus-lite 2.5.1 fails on an expression of 50 or more OR-ed terms ("unsupported expr proto node")


def version_exprs(pairs: Sequence[tuple[str, str]], op: str) -> list[str]:
    """Expressions selecting the rows of each (doc_id, version) pair (``op`` "=="), or of each document's other
    versions ("!="), in groups of ``OR_TERMS`` pairs."""
    return [" or ".join(f"(doc_id == {quote(d)} and version {op} {quote(v)})" for d, v in pairs[i:i + OR_TERMS])
            for i in range(0, len(pairs), OR_TERMS)]
