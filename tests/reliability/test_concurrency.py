"""Documents added and deleted through the HTTP API while questions stream in, against a real uvicorn server:
no errors, nothing lost or duplicated, every kept document answerable, every deleted one gone."""

from __future__ import annotations

import importlib.util
import threading
from pathlib import Path

import httpx

# Reuse the e2e live-server fixture (a uvicorn thread on 127.0.0.1, free port, private copy of the seed index).
_E2E = Path(__file__).resolve().parents[1] / "e2e" / "conftest.py"
_spec = importlib.util.spec_from_file_location("e2e_live_server", _E2E)
assert _spec is not None and _spec.loader is not None
_e2e = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_e2e)
live_server = _e2e.live_server

SEED_IDS = ["000_674862a2fea0ee51", "003_15bbf54440315bf5"]
PATROL_Q = "Which port did the US patrol boats reach?"
PATROL_DOC = "003_15bbf54440315bf5"
# (title, fact sentence, question): each fact is found in exactly one added document
FACTS = [
    ("Zorblax Festival", "The zorblax festival was held in Quenton in 1873.", "Where was the zorblax festival held?"),
    ("Glimmerfen Lighthouse", "The glimmerfen lighthouse was built by Ardo Velnik in 1912.",
     "Who built the glimmerfen lighthouse?"),
    ("Brimwick Treaty", "The brimwick treaty was signed in Olvara in 1788.", "Where was the brimwick treaty signed?"),
    ("Snorvel Mine", "The snorvel mine closed in 1964 after a flood.", "When did the snorvel mine close?"),
    ("Plindor Comet", "The plindor comet was discovered by Mara Ostek in 1899.", "Who discovered the plindor comet?"),
    ("Travok Canal", "The travok canal was dug by 4,000 workers in 1820.", "How many workers dug the travok canal?"),
    ("Velmora Bridge", "The velmora bridge was designed by the engineer Pol Istra.",
     "Who designed the velmora bridge?"),
    ("Quarvel Orchestra", "The quarvel orchestra performed in Tessaly in the winter of 1931.",
     "Where did the quarvel orchestra perform?"),
]
WRITERS, ASKERS = 3, 3


def _doc(i: int) -> dict[str, str]:
    title, fact, _ = FACTS[i]
    return {"doc_id": f"conc_{i}", "title": title, "text": f"{title}\n\n{fact} Local records describe it in detail."}


def test_adds_and_deletes_under_question_traffic(live_server: str) -> None:
    errors: list[str] = []
    writers_done = threading.Event()
    deleted = {f"conc_{i}" for i in range(len(FACTS)) if i % 2 == 0}
    kept = {f"conc_{i}" for i in range(len(FACTS)) if i % 2 == 1}
    asked = [0] * ASKERS

    def writer(w: int) -> None:
        mine = list(range(w, len(FACTS), WRITERS))
        with httpx.Client(base_url=live_server, timeout=120) as http:
            for i in mine:
                r = http.post("/documents", json=_doc(i))
                if r.status_code != 201:
                    errors.append(f"add conc_{i}: {r.status_code} {r.text[:200]}")
            # the same document sent again by a second thread at the same time must not duplicate it
            r = http.post("/documents", json=_doc(1))
            if r.status_code != 201:
                errors.append(f"re-add conc_1: {r.status_code} {r.text[:200]}")
            for i in mine:
                if f"conc_{i}" in deleted:
                    r = http.delete(f"/documents/conc_{i}")
                    if r.status_code != 200 or r.json() != {"deleted": f"conc_{i}"}:
                        errors.append(f"delete conc_{i}: {r.status_code} {r.text[:200]}")

    def asker(a: int) -> None:
        with httpx.Client(base_url=live_server, timeout=120) as http:
            while not writers_done.is_set() or asked[a] < 3:
                kind = asked[a] % 3
                if kind == 0:
                    r = http.post("/ask", json={"question": PATROL_Q})
                    ok = r.status_code == 200 and r.json()["answer"] == "southern port of Odessa" \
                        and r.json()["citations"][0]["doc_id"] == PATROL_DOC
                elif kind == 1:
                    r = http.get("/search", params={"q": "zorblax festival Quenton", "k": 3})
                    ok = r.status_code == 200 and isinstance(r.json(), list)
                else:
                    r = http.get("/documents")
                    ids = [d["doc_id"] for d in r.json()] if r.status_code == 200 else []
                    ok = r.status_code == 200 and len(ids) == len(set(ids)) and set(SEED_IDS) <= set(ids)
                if not ok:
                    errors.append(f"asker {a} kind {kind}: {r.status_code} {r.text[:300]}")
                asked[a] += 1

    writer_threads = [threading.Thread(target=writer, args=(w,)) for w in range(WRITERS)]
    asker_threads = [threading.Thread(target=asker, args=(a,)) for a in range(ASKERS)]
    for t in asker_threads + writer_threads:
        t.start()
    for t in writer_threads:
        t.join()
    writers_done.set()
    for t in asker_threads:
        t.join()

    assert errors == []
    assert sum(asked) >= 3 * ASKERS

    with httpx.Client(base_url=live_server, timeout=120) as http:
        ids = [d["doc_id"] for d in http.get("/documents").json()]
        assert sorted(ids) == sorted(SEED_IDS + list(kept))
        assert http.get("/health").json()["documents"] == len(SEED_IDS) + len(kept)
        for i, (_, fact, question) in enumerate(FACTS):
            doc_id = f"conc_{i}"
            answer = http.post("/ask", json={"question": question}).json()
            cited = [c["doc_id"] for c in answer["citations"]] + [p["doc_id"] for p in answer["passages"]]
            if doc_id in kept:
                citation = answer["citations"][0]
                assert (citation["quote"], citation["doc_id"]) == (fact, doc_id), question
                text = http.get(f"/documents/{doc_id}").json()["text"]
                assert text[citation["start"]:citation["end"]] == fact
                span = citation["highlight"]
                assert text[span["start"]:span["end"]] == answer["answer"] and answer["answer"] in fact
            else:
                assert http.get(f"/documents/{doc_id}").status_code == 404
                assert doc_id not in cited, question
                assert not answer["answer"] or answer["answer"] not in fact
