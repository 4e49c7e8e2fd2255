"""Kill loop: a real `qa serve` is SIGKILLed 20 times while 20 clients add and delete documents; after every restart
each acknowledged add is there with its exact text, each acknowledged delete is gone, and a write that was cut off
is either wholly there or wholly absent (never a document without its sentences or with a truncated text)."""

from __future__ import annotations

import random
import shutil
import threading
import time
from pathlib import Path

import httpx
from conftest_server import serve

KILLS = 20
WRITERS = 20


def _doc(writer: int, n: int) -> dict[str, str]:
    return {"doc_id": f"kill_{writer}_{n}", "title": f"Ferry {writer} {n}",
            "text": f"The ferry number {writer}-{n} leaves the harbour at {n % 12 + 1} o'clock. It carries "
                    f"{writer * 10 + n} passengers to the island."}


def test_acknowledged_writes_survive_twenty_sigkills(seed_index_dir: Path, tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    shutil.copytree(seed_index_dir, index_dir)
    rng = random.Random(7)
    acked_add: dict[str, str] = {}  # doc_id -> text, for adds answered 201
    acked_delete: set[str] = set()  # ids whose DELETE was answered 200 (or 404 after a cut-off DELETE of it)
    tried_delete: set[str] = set()  # DELETEs sent: one cut off by the kill may or may not have landed
    attempted: dict[str, str] = {}  # every add sent, answered or not
    lock = threading.Lock()
    counters = [0] * WRITERS

    for _ in range(KILLS):
        server = serve(index_dir)
        _, url = next(server)
        with httpx.Client(base_url=url, timeout=30) as http:
            present = {d["doc_id"] for d in http.get("/documents").json()}
            for doc_id in acked_add:
                if doc_id in acked_delete:
                    assert doc_id not in present, f"acknowledged delete of {doc_id} undone"
                elif doc_id not in tried_delete:
                    assert doc_id in present, f"acknowledged add of {doc_id} lost"
            for doc_id in present & set(attempted):  # cut-off writes that did land are complete
                body = http.get(f"/documents/{doc_id}").json()
                assert body["text"] == attempted[doc_id] and body["sentences"] == 2, doc_id

        stop = threading.Event()

        def writer(w: int, url: str = url, stop: threading.Event = stop) -> None:
            with httpx.Client(base_url=url, timeout=30) as http:
                while not stop.is_set():
                    with lock:
                        mine = [d for d in acked_add if d.startswith(f"kill_{w}_") and d not in acked_delete]
                    try:
                        if mine and rng.random() < 0.3:
                            doc_id = mine[0]
                            with lock:
                                retry = doc_id in tried_delete
                                tried_delete.add(doc_id)
                            status = http.delete(f"/documents/{doc_id}").status_code
                            if status == 200 or (status == 404 and retry):
                                with lock:
                                    acked_delete.add(doc_id)
                        else:
                            counters[w] += 1
                            doc = _doc(w, counters[w])
                            with lock:
                                attempted[doc["doc_id"]] = doc["text"]
                            response = http.post("/documents", json=doc)
                            if response.status_code == 201 and response.json()["added"] == [doc["doc_id"]]:
                                with lock:
                                    acked_add[doc["doc_id"]] = doc["text"]
                    except httpx.HTTPError:
                        return  # the server was killed mid-request: that write is unacknowledged

        threads = [threading.Thread(target=writer, args=(w,)) for w in range(WRITERS)]
        for t in threads:
            t.start()
        time.sleep(rng.uniform(0.3, 1.5))
        server.close()  # SIGKILL, mid-traffic
        stop.set()
        for t in threads:
            t.join(timeout=60)

    assert len(acked_add) >= KILLS  # the loop did write: at least one acknowledged add per round on average
    assert acked_delete
    final = serve(index_dir)
    _, url = next(final)
    try:
        with httpx.Client(base_url=url, timeout=30) as http:
            present = {d["doc_id"] for d in http.get("/documents").json()}
            assert {d for d in acked_add if d not in tried_delete} <= present
            assert not acked_delete & present
            top = http.get("/search", params={"q": "patrol boats port Odessa", "k": 1}).json()
            assert top[0]["doc_id"] == "003_15bbf54440315bf5"  # the seeds are searchable as before
            for doc_id in sorted(present & set(attempted))[:5]:  # and so are the added documents, by their facts
                text = attempted[doc_id]
                assert http.get("/search", params={"q": text.split(". ")[0], "k": 1}).json()[0]["doc_id"] == doc_id
    finally:
        final.close()
