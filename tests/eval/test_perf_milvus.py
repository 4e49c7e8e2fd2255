"""The Milvus rows of the performance benchmark: the rotating order calls are timed in, what two backends' answers
must agree on, and the report's rows and ratios for /ask through Milvus beside the embedded backend and txtai."""

from __future__ import annotations

from eval.bench.perf_milvus import alternate, cited, rotation
from eval.bench.perf_report import markdown


def test_each_side_goes_first_in_turn() -> None:
    assert [rotation(i, 2) for i in range(3)] == [[0, 1], [1, 0], [0, 1]]
    assert [rotation(i, 3) for i in range(4)] == [[0, 1, 2], [1, 2, 0], [2, 0, 1], [0, 1, 2]]


def test_alternate_calls_every_side_on_every_question_in_rotation() -> None:
    log: list[tuple[str, str]] = []
    calls = [lambda q: log.append(("m", q)) or f"m:{q}", lambda q: log.append(("e", q)) or f"e:{q}"]
    times, results = alternate(["a", "b", "c"], calls)
    assert log == [("m", "a"), ("e", "a"), ("e", "b"), ("m", "b"), ("m", "c"), ("e", "c")]
    assert results == [["m:a", "m:b", "m:c"], ["e:a", "e:b", "e:c"]]
    assert [len(t) for t in times] == [3, 3]


def test_cited_is_the_answer_and_its_first_citation() -> None:
    answer = {"answer": "Finland", "citations": [{"doc_id": "d1", "start": 62, "end": 190}, {"doc_id": "d2"}]}
    assert cited(answer) == ("Finland", "d1", 62, 190)
    assert cited({"answer": None, "citations": []}) == (None, None, None, None)
    assert cited(None) is None


def _stats(p50: float) -> dict:
    return {"n": 20, "p50": p50, "p95": p50 * 2, "p99": p50 * 3, "mean": p50}


def _report() -> dict:
    collection = {
        "documents": 12,
        "indexing": {"sentences": 100, "passages": 40, "build_seconds": 2.0, "encode_passages_seconds": 1.6,
                     "encode_sentences_seconds": 1.9, "build_over_encode_passages": 1.25,
                     "build_over_encode_sentences": 1.05, "docs_per_second": 6.0, "tokens_per_second": 900.0,
                     "torch_encode_sentences_seconds": 3.0, "peak_rss_mb_after_model_load": 300, "peak_rss_mb": 320,
                     "index_bytes_on_disk": 1_000_000, "faiss_spec": "IDMap2,Flat"},
        "cold_start_seconds": [2.0, 2.1],
        "in_process": {"question_int8": True, "encode_floor_ms": _stats(3.0), "fp32_encode_ms": _stats(5.0),
                       "torch_encode_ms": _stats(12.0), "ask_ms": _stats(15.0), "ask_cached_ms": _stats(8.0),
                       "ask_over_floor_p50": 5.0, "hit_at_5": 0.9, "answer_contains_gold": 0.6, "answerable": 20},
        "http": {"sequential": {"latency_ms": _stats(18.0), "errors": 0, "throughput_rps": 50.0,
                                "over_floor_p50": 6.0, "over_torch_p50": 1.5}},
        "milvus": {"measured": True, "documents": 12, "copy_seconds": 4.25, "index": "milvus-lite 2.5.1, FLAT",
                   "milvus_ms": _stats(45.0), "embedded_ms": _stats(18.0), "milvus_errors": 0, "embedded_errors": 0,
                   "milvus_over_embedded_p50": 2.5, "same_answer_and_citation": 0.95},
        "peers": {"txtai": {"measured": True, "version": "9.14.0", "search_ms": _stats(26.0),
                            "ours_ms": _stats(20.0), "ours_errors": 0, "ours_milvus_ms": _stats(40.0),
                            "ours_milvus_errors": 1, "hit_at_5": 0.98, "index_seconds": 17.9, "paragraphs": 475,
                            "config": "hybrid"}},
    }
    machine = {"platform": "linux", "cpus": 2, "ram_gb": 25.3, "onnxruntime": "1", "torch": "2", "torch_threads": 2,
               "faiss": "1", "load_avg_at_start": [1.0], "load_avg_at_end": [1.0]}
    return {"generated": "now", "commit": "abc", "command": "python -m eval.bench.perf", "machine": machine,
            "collections": {"squad": collection}}


def test_the_report_shows_ask_through_milvus_beside_embedded_and_txtai() -> None:
    lines = markdown(_report()).splitlines()
    assert ("| HTTP /ask p50 through Milvus ÷ through the embedded backend (timed beside it) | 45.00 ms ÷ 18.00 ms = "
            "2.50× | (no target: the price of stateless replicas) | - |") in lines
    assert ("| txtai hybrid search p50 ÷ our HTTP /ask p50 through Milvus (timed beside it) | 26.00 ms ÷ 40.00 ms = "
            "0.65× | (no target) | - |") in lines
    assert ("| HTTP POST /ask through Milvus (milvus-lite 2.5.1, FLAT), sequential | 20 | 45.0 | 90.0 | 135.0 |  | 0 "
            "|  |") in lines
    assert ("| HTTP POST /ask, embedded, sequential, timed beside the row above (same questions, rotating) | 20 | 18.0 "
            "| 36.0 | 54.0 |  | 0 |  |") in lines
    assert ("| HTTP POST /ask through Milvus, sequential, timed beside the two rows above | 20 | 40.0 | 80.0 | 120.0 "
            "|  | 1 |  |") in lines
    assert ("Milvus: the embedded index copied into milvus-lite 2.5.1, FLAT (vectors copied, 12 documents in 4.2 s "
            "with the engine's start), served by `qa serve` with QA_BACKEND=milvus; the same answer and first "
            "citation as the embedded backend on 0.950 of the timed questions.") in lines


def test_the_report_says_why_milvus_was_not_measured() -> None:
    report = _report()
    report["collections"]["squad"]["milvus"] = {"measured": False, "why": "the milvus extra is not installed"}
    text = markdown(report)
    assert "Milvus: not measured — the milvus extra is not installed." in text.splitlines()
    assert "through Milvus ÷" not in text
