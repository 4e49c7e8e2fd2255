"""Markdown for the performance report: every figure next to its target from issue 5."""

from __future__ import annotations

TARGETS = {
    "http_over_floor": 1.5,  # /ask p50 over HTTP, sequential, at most this times the bare encode p50
    "vs_txtai": 2.0,  # at least this much faster than txtai hybrid search (set before the reader; with it: >= 1.0)
    "vs_haystack_reader": 10.0,  # Haystack ExtractiveReader running the same reader weights
    "throughput_16": 2.0,  # 16 clients: at least this times the sequential rate
    "build_over_encode": 1.5,  # index build at most this times the bare batch-encode of the same texts
}


def _ok(flag: bool) -> str:
    return "met" if flag else "**NOT met**"


def _targets(c: dict) -> list[str]:
    ip, h, ix = c["in_process"], c["http"], c["indexing"]
    seq = h["sequential"]
    floor, st_floor = ip["encode_floor_ms"]["p50"], ip["torch_encode_ms"]["p50"]
    goal = TARGETS["http_over_floor"]
    rows = [
        "| target | measured | goal | |",
        "|---|---|---|---|",
        f"| HTTP /ask p50 sequential ÷ bare question encode p50 (the forward pass the service runs) | "
        f"{seq['latency_ms']['p50']:.2f} ms ÷ {floor:.2f} ms = {seq['over_floor_p50']:.2f}× | ≤ {goal}× | "
        f"{_ok(seq['over_floor_p50'] <= goal)} |",
        f"| HTTP /ask p50 sequential ÷ bare `SentenceTransformer.encode([q])` p50 (torch) | "
        f"{seq['latency_ms']['p50']:.2f} ms ÷ {st_floor:.2f} ms = {seq['over_torch_p50']:.2f}× | ≤ {goal}× | "
        f"{_ok(seq['over_torch_p50'] <= goal)} |",
        f"| in-process ask p50 ÷ bare question encode p50 | {ip['ask_ms']['p50']:.2f} ms ÷ {floor:.2f} ms = "
        f"{ip['ask_over_floor_p50']:.2f}× | (≤ {goal}×) | {_ok(ip['ask_over_floor_p50'] <= goal)} |",
    ]
    milvus = c.get("milvus", {})
    if milvus.get("measured"):
        rows.append(f"| HTTP /ask p50 through Milvus ÷ through the embedded backend (timed beside it) | "
                    f"{milvus['milvus_ms']['p50']:.2f} ms ÷ {milvus['embedded_ms']['p50']:.2f} ms = "
                    f"{milvus['milvus_over_embedded_p50']:.2f}× | (no target: the price of stateless replicas) | - |")
    peers = c.get("peers", {})
    peer_rows: tuple[tuple[str, str, str, float | None], ...] = (
        ("txtai", "search_ms", "txtai hybrid search", TARGETS["vs_txtai"]),
        ("haystack", "search_ms", "Haystack hybrid pipeline", None),
        ("haystack_reader", "ask_ms", "Haystack ExtractiveReader (same reader weights, torch)",
         TARGETS["vs_haystack_reader"]),
    )
    for key, timing, label, peer_goal in peer_rows:
        peer = peers.get(key, {})
        if peer.get("measured"):
            ours = peer["ours_ms"]["p50"]  # timed beside the peer, on the same questions
            speed = peer[timing]["p50"] / ours
            wanted = f"≥ {peer_goal}×" if peer_goal else "(clearly ahead)"
            rows.append(f"| {label} p50 ÷ our HTTP /ask p50 (timed beside it) | {peer[timing]['p50']:.2f} ms ÷ "
                        f"{ours:.2f} ms = {speed:.2f}× | {wanted} | {_ok(speed >= (peer_goal or 2.0))} |")
            if "ours_milvus_ms" in peer:
                theirs, on_milvus = peer[timing]["p50"], peer["ours_milvus_ms"]["p50"]
                rows.append(f"| {label} p50 ÷ our HTTP /ask p50 through Milvus (timed beside it) | {theirs:.2f} ms ÷ "
                            f"{on_milvus:.2f} ms = {theirs / on_milvus:.2f}× | (no target) | - |")
    c16 = h.get("clients_16")
    if c16:
        ratio = c16["throughput_rps"] / seq["throughput_rps"]
        rows.append(f"| 16 clients throughput ÷ sequential | {c16['throughput_rps']:.1f} ÷ {seq['throughput_rps']:.1f}"
                    f" req/s = {ratio:.2f}×, {c16['errors']} errors | ≥ {TARGETS['throughput_16']}×, 0 errors | "
                    f"{_ok(ratio >= TARGETS['throughput_16'] and c16['errors'] == 0)} |")
    for key, label in (("build_over_encode_passages", "passage"), ("build_over_encode_sentences", "sentence")):
        rows.append(f"| index build ÷ bare batch-encode of the {label} texts | {ix['build_seconds']:.2f} s ÷ "
                    f"{ix['encode_' + label + 's_seconds']:.2f} s = {ix[key]:.2f}× | ≤ {TARGETS['build_over_encode']}×"
                    f" | {_ok(ix[key] <= TARGETS['build_over_encode'])} |")
    return rows


def _latency_table(c: dict) -> list[str]:
    ip, h = c["in_process"], c["http"]
    rows = ["| measurement | n | p50 ms | p95 ms | p99 ms | throughput | errors | CPU ms/request: server, client |",
            "|---|---|---|---|---|---|---|---|"]

    def row(label: str, s: dict, thr: str = "", err: str = "", cpu: dict | None = None) -> str:
        cpu_cell = (f"{cpu['server_cpu_ms_per_request']:.2f}, {cpu['client_cpu_ms_per_request']:.2f}"
                    if cpu and "server_cpu_ms_per_request" in cpu else "")
        cells = [label, s["n"], *(round(s[k], 3) if k in s else "-" for k in ("p50", "p95", "p99")), thr, err,
                 cpu_cell]
        return "| " + " | ".join(str(x) for x in cells) + " |"

    graph = "int8" if ip.get("question_int8") else "fp32"
    rows.append(row(f"bare question encode, ONNX {graph} graph (floor: tokenize + one forward pass)",
                    ip["encode_floor_ms"]))
    if ip.get("question_int8"):
        rows.append(row("bare encode, ONNX fp32 graph (what passages use)", ip["fp32_encode_ms"]))
    rows.append(row("bare `SentenceTransformer.encode([q])` on torch", ip["torch_encode_ms"]))
    rows.append(row("`service.ask`, distinct questions", ip["ask_ms"]))
    rows.append(row("`service.ask`, cached question embeddings", ip["ask_cached_ms"]))
    seq = h["sequential"]
    rows.append(row("HTTP POST /ask, sequential", seq["latency_ms"], f"{seq['throughput_rps']:.1f} req/s",
                    str(seq["errors"]), seq))
    for key in sorted((k for k in h if k.startswith("clients_")), key=lambda k: int(k.split("_")[1])):
        r = h[key]
        rows.append(row(f"HTTP POST /ask, {r['clients']} concurrent clients ({r['elapsed']:.1f} s)", r["latency_ms"],
                        f"{r['throughput_rps']:.1f} req/s", str(r["errors"]), r))
    milvus = c.get("milvus", {})
    if milvus.get("measured"):
        rows.append(row(f"HTTP POST /ask through Milvus ({milvus['index']}), sequential", milvus["milvus_ms"],
                        err=str(milvus["milvus_errors"])))
        rows.append(row("HTTP POST /ask, embedded, sequential, timed beside the row above (same questions, rotating)",
                        milvus["embedded_ms"], err=str(milvus["embedded_errors"])))
    for key, timing, label in (("txtai", "search_ms", "txtai {} hybrid `search(q, 5)` in-process"),
                               ("haystack", "search_ms", "Haystack {} hybrid pipeline `run` in-process"),
                               ("haystack_reader", "ask_ms", "Haystack {} hybrid + ExtractiveReader (our weights) "
                                                             "in-process")):
        peer = c.get("peers", {}).get(key, {})
        if peer.get("measured"):
            rows.append(row(label.format(peer["version"]), peer[timing]))
            rows.append(row("HTTP POST /ask, sequential, timed beside the row above (same questions, alternating)",
                            peer["ours_ms"], err=str(peer["ours_errors"])))
            if "ours_milvus_ms" in peer:
                rows.append(row("HTTP POST /ask through Milvus, sequential, timed beside the two rows above",
                                peer["ours_milvus_ms"], err=str(peer["ours_milvus_errors"])))
    return rows


def _collection(name: str, c: dict) -> list[str]:
    ix, ip = c["indexing"], c["in_process"]
    lines = [f"## {name}: {c['documents']} documents, {ix['sentences']} sentences, {ix['passages']} passages", ""]
    lines += _targets(c) + ["", "### Latency", ""] + _latency_table(c)
    lines += ["", f"Quality on the timed questions ({ip['answerable']} answerable): hit@5 (a returned passage contains "
              f"a gold answer) {ip['hit_at_5']:.3f}, answer contains gold {ip['answer_contains_gold']:.3f}."]
    peers = c.get("peers", {})
    notes = {  # per peer: its label, and how a measured run reads in the report
        "txtai": ("txtai", lambda r: (
            f"txtai hit@5 over whole SQuAD paragraphs (longer than our passages, so easier to hit): "
            f"{r['hit_at_5']:.3f}; txtai indexing {r['index_seconds']:.1f} s for {r['paragraphs']} paragraphs. "
            f"Config: {r['config']}.")),
        "haystack": ("Haystack", lambda r: (
            f"Haystack hit@5 over whole SQuAD paragraphs: {r['hit_at_5']:.3f}; Haystack indexing "
            f"{r['index_seconds']:.1f} s. Config: {r['config']}.")),
        "haystack_reader": ("Haystack ExtractiveReader", lambda r: (
            f"Haystack ExtractiveReader with our reader's weights: exact match {r['exact_match']:.3f} on "
            f"{r['ask_ms']['n']} questions. Config: {r['config']}.")),
    }
    for key, (label, note) in notes.items():
        run = peers.get(key, {})
        if run.get("measured"):
            lines.append(note(run))
        elif "peers" in c:
            lines.append(f"{label}: not measured — {run.get('why')}.")
    milvus = c.get("milvus")
    if milvus and milvus.get("measured"):
        lines.append(f"Milvus: the embedded index copied into {milvus['index']} (vectors copied, "
                     f"{milvus['documents']} documents in {milvus['copy_seconds']:.1f} s with the engine's start), "
                     "served by `qa serve` with QA_BACKEND=milvus; the same answer and first citation as the embedded "
                     f"backend on {milvus['same_answer_and_citation']:.3f} of the timed questions.")
    elif milvus:
        lines.append(f"Milvus: not measured — {milvus.get('why')}.")
    conc = c.get("in_process_concurrent")
    if conc:
        lines.append(f"In-process, {conc['threads']} threads × `ask`: {conc['throughput_qps']:.1f} questions/s over "
                     f"{conc['questions']} questions with {conc['encoder_calls']} encoder calls (micro-batching).")
    lines += ["", "### Indexing", "", "| figure | value |", "|---|---|",
              f"| build (chunk + embed + BM25 + FAISS + save) | {ix['build_seconds']:.2f} s |",
              f"| documents/s | {ix['docs_per_second']:.2f} |",
              f"| tokens/s (sentence tokens embedded) | {ix['tokens_per_second']:.0f} |",
              f"| bare batch-encode, same sentence texts | {ix['encode_sentences_seconds']:.2f} s |",
              f"| bare batch-encode, same passage texts | {ix['encode_passages_seconds']:.2f} s |",
              f"| bare sentence-transformers (torch) batch-encode, same sentence texts | "
              f"{ix['torch_encode_sentences_seconds']:.2f} s |",
              f"| peak RSS (after model load → after indexing) | {ix['peak_rss_mb_after_model_load']} → "
              f"{ix['peak_rss_mb']} MB |",
              f"| index size on disk | {ix['index_bytes_on_disk'] / 1e6:.2f} MB |",
              f"| FAISS index | `{ix['faiss_spec']}` |",
              f"| cold start (`qa ask --json` process start → answer) | "
              f"{', '.join(f'{s:.2f} s' for s in c['cold_start_seconds'])} |"]
    for t in c.get("thread_settings", []):
        lines.append(f"| ONNX intra-op threads = {t['onnx_threads']}: int8 question encode p50 / CPU per question / "
                     f"fp32 batch rate | {t['int8_encode_one_ms']['p50']} ms / {t['int8_encode_one_cpu_ms']} ms / "
                     f"{t['fp32_batch_sentences_per_s']} sentences/s |")
    return lines + [""]


def markdown(report: dict) -> str:
    m = report["machine"]
    lines = [
        "# Performance report", "",
        f"Generated {report['generated']} at commit `{report['commit']}` by `{report['command']}`.",
        f"Machine: {m['platform']}, {m['cpus']} CPUs, {m['ram_gb']} GB RAM; onnxruntime {m['onnxruntime']}, "
        f"torch {m['torch']} ({m['torch_threads']} threads), faiss {m['faiss']}; "
        f"load average {m['load_avg_at_start']} at start, "
        f"{m.get('load_avg_at_end')} at end. The machine is shared with other work, so absolute times are noisy; "
        "ratios are measured in the same run. The HTTP load generator runs on the same two cores as the server. "
        "Each peer is timed beside our HTTP /ask: the same questions (a seeded sample over all articles), one call of "
        "each per question in alternating order, against a fresh server.",
        "",
    ]
    for name, c in report["collections"].items():
        lines += _collection(name, c)
    return "\n".join(lines)
