"""The Milvus backend in the performance benchmark: the collection's embedded index copied into a milvus-lite file
(``index.migrate``: the same documents and vectors, nothing embedded again), and HTTP /ask through a `qa serve` on it
timed beside a `qa serve` on the embedded index, question by question in rotating order, so both see the same machine
at the same moments. Needs the ``milvus`` extra; without it the report says so.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from importlib.metadata import version
from pathlib import Path

import httpx

from eval.bench import perf_http

WARMUP = 10


def settings_for(db: Path) -> dict[str, str]:
    """The `qa serve` settings of a server on the milvus-lite file ``db`` (it starts the engine itself)."""
    return {"QA_BACKEND": "milvus", "QA_MILVUS_URI": str(db)}


def missing() -> str | None:
    """Why the Milvus backend cannot be measured here, or None."""
    try:
        import milvus_lite  # noqa: F401
        import pymilvus  # noqa: F401
    except ImportError as exc:
        return f"the milvus extra is not installed ({exc}); pip install -e '.[milvus]'"
    return None


def copy_index(index_dir: Path, db: Path) -> dict:
    """Copy the embedded index at ``index_dir`` into a new milvus-lite file ``db`` (closed again on return, so a
    server can start the engine on it)."""
    from index import migrate
    from index.embedder import Embedder
    from index.milvus import MilvusStore
    from index.store import IndexStore

    embedder = Embedder()
    source = IndexStore.open(index_dir, embedder)
    t = time.perf_counter()
    with MilvusStore.open(str(db), embedder, create=True) as target:
        copied, _ = migrate.to_milvus(source, target)
    return {"documents": copied, "copy_seconds": time.perf_counter() - t,
            "index": f"milvus-lite {version('milvus-lite')}, FLAT"}


def rotation(i: int, sides: int) -> list[int]:
    """The order the ``sides`` calls of question ``i`` run in: each side goes first, second, ... in turn."""
    return [(i + k) % sides for k in range(sides)]


def alternate(questions: Sequence[str], calls: Sequence[Callable[[str], object]]) -> tuple[list[list[float]], list]:
    """Each call on each question, in ``rotation`` order: per call its latencies (seconds) and results."""
    times: list[list[float]] = [[] for _ in calls]
    results: list[list] = [[] for _ in calls]
    for i, q in enumerate(questions):
        for side in rotation(i, len(calls)):
            t = time.perf_counter()
            results[side].append(calls[side](q))
            times[side].append(time.perf_counter() - t)
    return times, results


def asker(client: httpx.Client) -> Callable[[str], dict | None]:
    """POST /ask through ``client``: the answer, or None on an error."""
    def ask(question: str) -> dict | None:
        try:
            response = client.post("/ask", json={"question": question})
        except httpx.HTTPError:
            return None
        return response.json() if response.status_code == 200 else None
    return ask


def cited(answer: dict | None) -> tuple | None:
    """What two backends must agree on: the answer and its first citation's document and offsets."""
    if answer is None:
        return None
    first = (answer.get("citations") or [{}])[0]
    return answer.get("answer"), first.get("doc_id"), first.get("start"), first.get("end")


def beside(index_dir: Path, db: Path, questions: Sequence[str]) -> dict:
    """HTTP /ask over Milvus and over the embedded index, each question through both (rotating order): the
    latencies in seconds, the error counts, and the share of questions both answered alike (``cited``)."""
    embedded, url_e = perf_http.start_server(index_dir)
    try:
        milvus, url_m = perf_http.start_server(index_dir, settings=settings_for(db))
    except BaseException:
        perf_http.stop_server(embedded)
        raise
    try:
        with httpx.Client(base_url=url_e, timeout=60) as e, httpx.Client(base_url=url_m, timeout=60) as m:
            calls = [asker(m), asker(e)]
            alternate([q + "?" for q in questions[:WARMUP]], calls)  # warm-up; the timed questions stay uncached
            (t_m, t_e), (r_m, r_e) = alternate(questions, calls)
    finally:
        perf_http.stop_server(milvus)
        perf_http.stop_server(embedded)
    return {"milvus_seconds": t_m, "embedded_seconds": t_e,
            "milvus_errors": sum(r is None for r in r_m), "embedded_errors": sum(r is None for r in r_e),
            "same_answer_and_citation": sum(cited(a) == cited(b) for a, b in zip(r_m, r_e, strict=True))
            / max(1, len(questions))}
