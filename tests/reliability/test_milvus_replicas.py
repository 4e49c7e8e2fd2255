"""Stateless replicas on one Milvus engine: two real `qa serve` processes, the first starting milvus-lite on a file,
the second connecting to its unix socket; each sees the other's writes, and SIGKILLing a replica in the middle of
writes loses no acknowledged write (the engine, not the replica, holds them). Background jobs are followed and
cancelled through any replica, and a job whose replica is SIGKILLed is taken over and finished by the other."""

from __future__ import annotations

import json
import random
import threading
import time
from pathlib import Path

import httpx
from conftest_server import serve

KILLS = 2
WRITERS = 4
JOB_DOCS = 400
JOB_BATCH = 8
WAIT_S = 300  # bounds a hung test only; no assertion depends on timing
SEED_MEET = ("Where did Milley and Gerasimov meet?", "Finland", "000_674862a2fea0ee51", 62, 190)


def _doc(writer: int, n: int) -> dict[str, str]:
    return {"doc_id": f"replica_{writer}_{n}", "title": f"Ferry {writer} {n}",
            "text": f"The ferry number {writer}-{n} leaves the harbour at {n % 12 + 1} o'clock. It carries "
                    f"{writer * 10 + n} passengers to the island."}


def _first(tmp_path: Path):  # type: ignore[no-untyped-def]
    db = tmp_path / "news.db"
    first = serve(tmp_path / "unused", QA_BACKEND="milvus", QA_MILVUS_URI=str(db))
    _, url = next(first)
    socket_uri = (tmp_path / ".news.db.uri").read_text(encoding="utf-8").strip()
    assert socket_uri.startswith("unix:")
    return first, url, socket_uri


def test_two_replicas_see_each_others_writes(tmp_path: Path) -> None:
    first, url_a, socket_uri = _first(tmp_path)
    second = serve(tmp_path / "unused", QA_BACKEND="milvus", QA_MILVUS_URI=socket_uri)
    _, url_b = next(second)
    try:
        with httpx.Client(base_url=url_a, timeout=60) as a, httpx.Client(base_url=url_b, timeout=60) as b:
            for http in (a, b):  # both answer from the seeds the first one indexed, with the same offsets
                answer = http.post("/ask", json={"question": SEED_MEET[0]}).json()
                c = answer["citations"][0]
                assert (answer["answer"], c["doc_id"], c["start"], c["end"]) == SEED_MEET[1:]
            doc = {"doc_id": "ferry_b", "title": "Ferry timetable",
                   "text": "The ferry to Kestrel Island leaves at noon. It carries 40 passengers."}
            assert b.post("/documents", json=doc).json()["added"] == ["ferry_b"]
            assert a.get("/documents/ferry_b").json()["text"] == doc["text"]
            answer = a.post("/ask", json={"question": "When does the ferry to Kestrel Island leave?"}).json()
            assert (answer["answer"], answer["citations"][0]["doc_id"]) == ("noon", "ferry_b")
            assert a.delete("/documents/ferry_b").status_code == 200
            assert b.get("/documents/ferry_b").status_code == 404
            assert {d["doc_id"] for d in b.get("/documents").json()} == {d["doc_id"] for d in
                                                                          a.get("/documents").json()}
            assert a.get("/health").json()["documents"] == b.get("/health").json()["documents"] == 2
    finally:
        second.close()
        first.close()


def test_a_sigkilled_replica_loses_no_acknowledged_write(tmp_path: Path) -> None:
    first, url_a, socket_uri = _first(tmp_path)
    rng = random.Random(11)
    acked: dict[str, str] = {}
    attempted: dict[str, str] = {}
    lock = threading.Lock()
    counters = [0] * WRITERS
    try:
        for _ in range(KILLS):
            replica = serve(tmp_path / "unused", QA_BACKEND="milvus", QA_MILVUS_URI=socket_uri)
            _, url = next(replica)
            stop = threading.Event()

            def writer(w: int, url: str = url, stop: threading.Event = stop) -> None:
                with httpx.Client(base_url=url, timeout=60) as http:
                    while not stop.is_set():
                        counters[w] += 1
                        doc = _doc(w, counters[w])
                        with lock:
                            attempted[doc["doc_id"]] = doc["text"]
                        try:
                            response = http.post("/documents", json=doc)
                        except httpx.HTTPError:
                            return  # killed mid-request: unacknowledged
                        if response.status_code == 201 and response.json()["added"] == [doc["doc_id"]]:
                            with lock:
                                acked[doc["doc_id"]] = doc["text"]

            threads = [threading.Thread(target=writer, args=(w,)) for w in range(WRITERS)]
            for t in threads:
                t.start()
            time.sleep(rng.uniform(2.0, 4.0))
            replica.close()  # SIGKILL, mid-traffic
            stop.set()
            for t in threads:
                t.join(timeout=120)
        assert len(acked) >= KILLS
        with httpx.Client(base_url=url_a, timeout=60) as a:  # through the replica that was never killed
            listing = a.get("/documents")
            assert listing.status_code == 200, listing.text
            present = {d["doc_id"] for d in listing.json()}
            assert set(acked) <= present
            for doc_id in present & set(attempted):  # cut-off writes that landed are whole
                body = a.get(f"/documents/{doc_id}").json()
                assert (body["text"], body["sentences"]) == (attempted[doc_id], 2)
            probe = sorted(acked)[0]
            hits = a.get("/search", params={"q": acked[probe].split(". ")[0], "k": 1}).json()
            assert hits[0]["doc_id"] == probe
    finally:
        first.close()


def test_acknowledged_writes_survive_a_sigkilled_engine(tmp_path: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    """The engine itself (milvus-lite's `milvus` process) SIGKILLed right after acknowledged writes: on restart on
    the same file every acknowledged document is there, whole."""
    import os
    import signal
    import subprocess
    import sys

    import psutil

    from index.documents import Document
    from index.milvus import MilvusStore, start_lite

    db = tmp_path / "engine.db"
    holder = subprocess.Popen([sys.executable, "-c", "import sys, time; from pathlib import Path; "
                               "from index.milvus import start_lite; e, uri = start_lite(Path(sys.argv[1])); "
                               "print(uri, flush=True); time.sleep(600)", str(db)],
                              stdout=subprocess.PIPE, text=True, env={**os.environ})
    try:
        assert holder.stdout is not None
        uri = holder.stdout.readline().strip()
        docs = [Document(f"e{i}", f"Ferry {i}", f"The ferry number {i} leaves at {i % 12 + 1} o'clock. "
                                                f"It carries {i} passengers.") for i in range(40)]
        with MilvusStore.open(uri, embedder, create=True) as store:
            for lo in range(0, len(docs), 8):
                assert len(store.update(docs[lo:lo + 8]).added) == 8  # acknowledged
            engine = next(p for p in psutil.Process(holder.pid).children() if p.name() == "milvus")
            engine.send_signal(signal.SIGKILL)
            deadline = time.monotonic() + 30  # dead once a zombie: its parent, asleep, never reaps it
            while engine.is_running() and engine.status() != psutil.STATUS_ZOMBIE and time.monotonic() < deadline:
                time.sleep(0.05)
            assert engine.status() == psutil.STATUS_ZOMBIE
    finally:
        holder.kill()
        holder.wait(timeout=30)
    server, uri = start_lite(db)
    try:
        with MilvusStore.open(uri, embedder) as store:
            view = store.snapshot
            assert (len(view.entries), view.n_passages, view.n_sentences) == (40, 40, 80)
            assert [view.document(d.doc_id) for d in docs] == docs
    finally:
        server.stop()


def _lamps(n: int, prefix: str = "lamp") -> list[dict[str, str]]:
    return [{"id": f"{prefix}_{i:03d}", "title": f"Lighthouse {i}",
             "text": f"The lighthouse number {i} was lit again on a Sunday. Its keeper counted {i * 11} ships."}
            for i in range(n)]


def _background(http: httpx.Client, records: list[dict[str, str]]) -> dict:
    body = "\n".join(json.dumps(r) for r in records).encode()
    accepted = http.post("/documents", params={"background": "true"},
                         files={"file": ("feed.jsonl", body, "application/x-ndjson")})
    assert accepted.status_code == 202, accepted.text
    return accepted.json()


def _job_until(http: httpx.Client, job_id: str, ready) -> dict:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + WAIT_S
    while True:
        response = http.get(f"/jobs/{job_id}")
        assert response.status_code == 200, response.text
        job = response.json()
        if ready(job):
            return job
        assert time.monotonic() < deadline, job
        time.sleep(0.05)


def test_a_job_is_followed_through_another_replica_which_finishes_it_when_its_replica_is_sigkilled(
        tmp_path: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    from index.milvus import MilvusStore

    first, url_a, socket_uri = _first(tmp_path)
    second = serve(tmp_path / "unused", QA_BACKEND="milvus", QA_MILVUS_URI=socket_uri,
                   QA_JOB_BATCH_DOCS=str(JOB_BATCH))
    _, url_b = next(second)
    ids = [r["id"] for r in _lamps(JOB_DOCS)]
    try:
        with httpx.Client(base_url=url_a, timeout=60) as a, httpx.Client(base_url=url_b, timeout=60) as b:
            job_id = _background(b, _lamps(JOB_DOCS))["id"]
            queued = _background(b, _lamps(3, "queued"))  # behind the first: B runs one job at a time
            assert (queued["state"], queued["total"]) == ("queued", 3)
            # through A: B's job, its progress, and a cancel of B's queued job
            seen = _job_until(a, job_id, lambda j: j["done"] >= 3 * JOB_BATCH)
            assert (seen["state"], seen["total"]) == ("running", JOB_DOCS), seen
            assert seen["added"] == ids[:seen["done"]]
            cancel = a.delete(f"/jobs/{queued['id']}")
            assert cancel.status_code == 202, cancel.text
            assert (cancel.json()["state"], cancel.json()["cancel_requested"]) == ("queued", True)
            assert [j["id"] for j in a.get("/jobs").json()] == [queued["id"], job_id]
            before = _job_until(a, job_id, lambda j: True)
            second.close()  # SIGKILL replica B mid-job
            assert before["state"] == "running" and before["done"] < JOB_DOCS, before
            # A takes the job over once B's heartbeat is over 15 s old, and resumes it after its last batch
            finished = _job_until(a, job_id, lambda j: j["state"] in ("done", "failed", "cancelled"))
            assert (finished["state"], finished["done"], finished["skipped"], finished["error"]) == \
                ("done", JOB_DOCS, [], None)
            assert finished["added"][:before["done"]] == ids[:before["done"]]
            assert sorted(finished["added"] + finished["unchanged"]) == ids
            assert len(finished["unchanged"]) <= JOB_BATCH  # at most the batch B was writing when killed
            gone = a.get(f"/jobs/{queued['id']}").json()  # its cancel was requested: not resumed
            assert (gone["state"], gone["done"], gone["skipped"], gone["error"]) == \
                ("cancelled", 0, ["queued_000", "queued_001", "queued_002"], None)
            assert a.delete(f"/jobs/{job_id}").status_code == 409
            assert {d["doc_id"] for d in a.get("/documents").json()} >= set(ids)
            assert a.get(f"/documents/{ids[-1]}").json()["text"] == _lamps(JOB_DOCS)[-1]["text"]
        with MilvusStore.open(socket_uri, embedder) as store:
            counts = [store.count(c, 'doc_id like "lamp_%"') for c in ("heads", "documents", "sentences",
                                                                        "passages")]
        assert counts == [JOB_DOCS, 2 * JOB_DOCS, 2 * JOB_DOCS, JOB_DOCS]  # documents: a text and a layout part each
    finally:
        second.close()
        first.close()
