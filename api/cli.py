"""The `qa` command line: index, ask, serve, eval (and search, docs, rm in api.cli_docs); parse, one call, format."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from api.cli_args import add_filter_arguments, filters_of, settings_of
from index.errors import InvalidInputError, QAError
from qa.config import Settings
from qa.models import Answer, Citation

# `qa index` exit codes (README, "Indexing"): every file indexed, some skipped, or nothing done (usage, lock, I/O)
EXIT_INDEXED, EXIT_SKIPPED, EXIT_ERROR = 0, 1, 2


def cmd_index(args: argparse.Namespace) -> int:
    """Index files locally or through a server; the same files print the same summary either way. Exit code 0 when
    every file and record was indexed, 1 when some were skipped (each named with its reason), 2 on errors."""
    if args.sync and args.url:
        raise InvalidInputError("--sync works on a local index only (the server does not know which of its documents "
                                "came from your folder); remove documents there with `qa rm ID... --url` or "
                                "`qa rm --source X --url`")
    if args.resplit and (args.paths or args.url or args.rebuild or args.sync):
        raise InvalidInputError("--resplit splits the documents already in the index again, from their stored text; "
                                "give it no files, --url, --rebuild or --sync")
    paths = [Path(p) for p in args.paths]
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        raise InvalidInputError(f"no such file or folder: {', '.join(missing)}")
    summary = _index_through_server(args, paths) if args.url else _index_locally(args, paths)
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print(f"documents: {len(summary['added'])} added, {len(summary['changed'])} changed, "
              f"{len(summary['unchanged'])} unchanged, {len(summary['removed'])} removed, "
              f"{len(summary['skipped'])} skipped")
        for doc_id in summary["removed"]:
            print(f"removed {doc_id}")
        for skipped in summary["skipped"]:
            print(f"skipped {skipped['source']}: {skipped['reason']}")
        if summary["undated"]:
            print(f"{len(summary['undated'])} without a publication date (date filters never match them): "
                  f"{', '.join(summary['undated'])}")
        _print_encodings((e["source"], e["encoding"]) for e in summary["encodings"])
        if args.url:
            print(f"server: {args.url}")
        else:
            print(f"index: {summary['index_dir']} ({summary['documents']} documents, {summary['passages']} passages)")
    return EXIT_SKIPPED if summary["skipped"] else EXIT_INDEXED


def _index_locally(args: argparse.Namespace, paths: list[Path]) -> dict[str, Any]:
    from tqdm import tqdm

    from qa.service import QAService

    settings = settings_of(args)
    paths = paths or [settings.seeds_dir]
    replaced = _indexed_ids(settings) if args.rebuild else []  # what a rebuild drops unless PATH holds it again
    # --resplit works on the index there is (no index: the error says so), never on one it would create empty
    opened: Any = settings.open_store(writer=True) if args.resplit else _open_for_index(settings, args.rebuild)
    with opened as store:
        service = QAService(store, settings)
        from index.ingest import iter_files

        # the total for the bar: one file is one article (JSONL: more)
        total = len(store.snapshot.entries) if args.resplit else sum(1 for _ in iter_files(paths))
        with tqdm(desc="indexing", unit="doc", total=total,
                  disable=args.quiet or args.json or not sys.stderr.isatty()) as bar:
            if args.resplit:  # only how a document is split changes: no duplicate checks, the texts are as they were
                report = store.update(store.stored_documents(), on_progress=bar.update)
            else:
                report = service.index_paths(paths, on_progress=bar.update, sync=args.sync,
                                             allow_duplicate=args.allow_duplicate)
        if settings.backend == "embedded" and store.generation is None:  # a rebuild that added nothing still
            store.save()  # replaces the index (with an empty one)
        snap = service.store.snapshot
        dropped = [d for d in replaced if d not in snap.entries]  # named like --sync's removals, never silently
        return {"added": report.added, "changed": report.changed, "unchanged": report.unchanged,
                "removed": report.removed + dropped, "undated": service.undated(report.added + report.changed),
                "skipped": [{"source": s.source, "reason": s.reason} for s in report.skipped],
                "encodings": [{"doc_id": e.doc_id, "source": e.source, "encoding": e.encoding}
                              for e in report.encodings],
                "index_dir": _location(settings), "backend": settings.backend, "documents": len(snap.entries),
                "passages": len(snap.passages)}


def _indexed_ids(settings: Settings) -> list[str]:
    """The ids of the documents indexed now (none when there is no index yet)."""
    from index.errors import IndexMissingError

    try:
        with settings.open_store() as store:
            return list(store.snapshot.entries)
    except IndexMissingError:
        return []


def _open_for_index(settings: Settings, rebuild: bool) -> Any:
    """The store ``qa index`` writes to (the embedded one with its folder's writer lock), emptied with ``--rebuild``:
    the embedded backend keeps the old generations until the new index is published (its backup until then);
    Milvus drops the collections first."""
    if settings.backend == "milvus":
        if rebuild:
            with settings.open_store(create=True) as old:
                old.drop()  # type: ignore[attr-defined]
        return settings.open_store(create=True)
    from index.store import IndexStore

    if rebuild:
        return IndexStore.rebuild(settings.index_dir, settings.make_embedder())
    return settings.open_store(create=True, writer=True)


def _location(settings: Settings) -> str:
    """Where the index is: the embedded index's folder, or the Milvus URI and collections."""
    if settings.backend == "milvus":
        return f"milvus {settings.milvus_uri} (collections {settings.milvus_collection_prefix}_*)"
    return str(settings.index_dir)


def _print_encodings(found: Iterable[tuple[str, str]]) -> None:
    """``not UTF-8: /data/notes/old.txt decoded as cp1252`` once per file (a JSON Lines file holds many documents)."""
    for source, encoding in dict.fromkeys(found):
        print(f"not UTF-8: {source} decoded as {encoding}")


def _index_through_server(args: argparse.Namespace, paths: list[Path]) -> dict[str, Any]:
    """Upload each file to a running server (POST /documents), which owns the index's writer lock."""
    from api.client import QAClient
    from index.ingest import doc_id_for, iter_files, missing

    if not paths:
        raise InvalidInputError("name the files or folders to send to the server")
    done: dict[str, list[str]] = {"added": [], "changed": [], "unchanged": [], "undated": []}
    skipped: list[dict[str, str]] = []
    encodings: list[dict[str, str]] = []
    with QAClient(args.url, api_key=args.api_key) as client:
        for path, rel in iter_files(paths):
            if (gone := missing(path)) is not None:  # named as a local run names it, never a traceback
                skipped.append({"source": str(path), "reason": gone})
                continue
            bar = _JobBar(path, quiet=args.quiet or args.json)
            try:
                with bar:  # the id is the one a local `qa index` would give
                    result = client.upload(path, doc_id_for(rel), on_job=bar.update,
                                           allow_duplicate=args.allow_duplicate)
            except QAError as exc:
                if exc.status_code not in (413, 415, 422):
                    raise
                skipped.append({"source": str(path), "reason": str(exc).split(": ", 1)[-1]})
                continue
            if result.get("job") and not args.json:
                print(f"{path}: {len(result['documents'])} documents indexed by job {result['job']}")
            for key, ids in done.items():
                ids.extend(result.get(key) or [])  # a job's record names no undated documents
            # a JSON Lines file's bad lines, named as a local run names them
            skipped.extend({"source": f"{path}, {r['where']}", "reason": r["reason"]}
                           for r in result.get("rejected", []))
            skipped.extend({"source": str(path.resolve()), "reason": d["reason"]} for d in result.get("duplicates", []))
            if result.get("encoding"):  # the server names it only for a file that was not UTF-8
                encodings.extend({"doc_id": doc_id, "source": str(path.resolve()), "encoding": result["encoding"]}
                                 for doc_id in result["documents"])
    return {"added": done["added"], "changed": done["changed"], "unchanged": done["unchanged"], "removed": [],
            "undated": done["undated"], "skipped": skipped, "encodings": encodings, "url": args.url}


class _JobBar:
    """A progress bar for a file the server indexes in a background job, shown from the job's first record."""

    def __init__(self, path: Path, quiet: bool) -> None:
        self.path, self.quiet = path, quiet
        self.bar: Any = None

    def update(self, job: dict[str, Any]) -> None:
        from tqdm import tqdm

        if self.bar is None:
            self.bar = tqdm(desc=f"{self.path.name} ({job['id']})", total=job["total"], unit="doc",
                            disable=self.quiet or not sys.stderr.isatty())
        self.bar.update(job["done"] - self.bar.n)

    def __enter__(self) -> _JobBar:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.close()


def _bold_span(c: Citation) -> str:
    """The quoted sentence with the answer span marked **like this** at its exact offsets."""
    if c.highlight is None:
        return c.quote
    a, b = c.highlight.start - c.start, c.highlight.end - c.start
    return f"{c.quote[:a]}**{c.quote[a:b]}**{c.quote[b:]}"


def format_answer(answer: Answer) -> str:
    """Readable terminal output with numbered citations."""
    lines = []
    if answer.answer is None:
        lines.append("Not found in the articles.")
        if answer.abstain_reason:
            lines.append(f"  ({answer.abstain_reason}; confidence {answer.confidence:.2f})")
    else:
        marks = "".join(f"[{i}]" for i in range(1, len(answer.citations) + 1))
        lines.append(f"{answer.answer} {marks}".rstrip())
        lines.append(f"  confidence {answer.confidence:.2f}")
    for i, c in enumerate(answer.citations, 1):
        lines.extend(_citation_lines(f"[{i}]", c))
    if answer.closest:
        lines.append("")
        lines.append("Not in the articles — closest passages:")
        for c in answer.closest:
            lines.extend(_citation_lines(f"- score {c.score:.2f}:", c))
    return "\n".join(lines)


def _citation_lines(mark: str, c: Citation) -> list[str]:
    """A citation (or a closest passage of a null answer): where it is, its URL, the quote with its span marked."""
    lines = ["", f"{mark} {c.title} ({c.doc_id}, characters {c.start}-{c.end})"]
    if c.url:
        lines.append(f"    {c.url}")
    lines.append(f"    “{_bold_span(c)}”")
    if c.copies:
        lines.append(f"    (also run by {len(c.copies)} other article{'s' * (len(c.copies) > 1)}: "
                     f"{', '.join(c.copies)})")
    if c.dates:
        meant = ", ".join(f"{d.text} = {d.date}" for d in c.dates)
        lines.append(f"    ({meant}; article of {c.published})")
    return lines


def cmd_ask(args: argparse.Namespace) -> int:
    filters = filters_of(args)
    if args.url:
        from api.client import QAClient

        answer = QAClient(args.url, api_key=args.api_key).ask(args.question, args.top_k, filters)
    else:
        from qa.service import QAService

        answer = QAService.from_settings(settings_of(args)).ask(args.question, args.top_k, filters)
    print(answer.model_dump_json(indent=2) if args.json else format_answer(answer))
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from api import server
    from api.app import create_app
    from qa.service import QAService

    settings = settings_of(args)
    seeds = settings.seeds_dir  # relative to the folder qa runs in, unless QA_SEEDS_DIR says otherwise
    first = (f"a first run indexes {seeds} first" if seeds.is_dir()
             else f"there is no {seeds} folder, so a first run starts with no documents: `qa index PATH` adds them")
    print(f"loading the model and the index in {_location(settings)} ({first})…", file=sys.stderr)
    # an embedded store holds the writer lock for the server's lifetime; the OS frees it should the server be killed
    service = QAService.from_settings(settings, build_from_seeds=True, writer=True)
    service.warm_up()
    service.jobs.resume()  # jobs a killed or stopped server accepted go on after their last journaled batch
    engine = getattr(service.store, "engine", None)
    shared = f"; other replicas: QA_MILVUS_URI={service.store.uri}" if engine is not None else ""  # type: ignore[attr-defined]
    print(f"serving {len(service.store.snapshot.entries)} documents: open http://{args.host}:{args.port} "
          f"(API docs at /docs){shared}; Ctrl+C stops", file=sys.stderr)
    try:
        server.run(create_app(settings, service), settings, args.host, args.port, args.log_level)
    finally:
        service.store.close()
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    """Copy every document with its vectors between the embedded index and Milvus; documents already in the target
    with the same content are skipped, so running it again after an interruption resumes it."""
    from tqdm import tqdm

    from index import migrate

    settings = settings_of(args)
    embedded = settings.model_copy(update={"backend": "embedded"})
    milvus = settings.model_copy(update={"backend": "milvus"})
    if args.to == "milvus":
        source, target = embedded.open_store(), milvus.open_store(create=True)
        copy = migrate.to_milvus
    else:  # into the embedded index, as its writer
        source, target = milvus.open_store(), embedded.open_store(create=True, writer=True)
        copy = migrate.to_embedded  # type: ignore[assignment]
    try:
        with tqdm(desc=f"to {args.to}", unit="doc", total=len(source.snapshot.entries),
                  disable=args.quiet or not sys.stderr.isatty()) as bar:
            copied, skipped = copy(source, target, bar.update)  # type: ignore[arg-type]
        documents = len(target.snapshot.entries)
    finally:
        source.close()
        target.close()
    where = _location(milvus if args.to == "milvus" else embedded)
    print(f"documents: {copied} copied, {skipped} already there; index: {where} ({documents} documents)")
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    # The one door from the product into eval/ (which nothing else imports at run time): `qa eval` is the seed eval.
    from eval.cli import main as eval_main

    rest = args.eval_args
    return eval_main(rest[1:] if rest[:1] == ["--"] else rest)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="qa", description="Extractive question answering over news articles.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("index", help="index files or folders (default: the seeds folder)",
                       epilog="exit codes: 0 every file and record indexed; 1 some skipped (each is named with its "
                              "reason, the others are indexed); 2 usage error, index locked by another writer, or "
                              "the server or the index failed")
    p.add_argument("paths", nargs="*", help="files or folders of .txt .md .html .pdf .docx .json .jsonl articles")
    p.add_argument("--index-dir", help="index folder (default: $QA_INDEX_DIR or .qa-index)")
    p.add_argument("--rebuild", action="store_true", help="build a new index from PATH that replaces the existing "
                   "one once it is written (the old one serves until then)")
    p.add_argument("--allow-duplicate", action="store_true", help="index a file even when an indexed document has "
                   "the same text (as a copy of it); without it such a file is skipped and named")
    p.add_argument("--sync", action="store_true", help="also remove the documents of files gone from the folders "
                   "named (never those of a file skipped now); without it nothing is removed")
    p.add_argument("--resplit", action="store_true", help="split the documents already indexed by today's "
                   "sentence rules, from their stored text (no files needed): those split by an earlier version are "
                   "embedded again and reported changed, the others unchanged")
    p.add_argument("--url", help="send the files to a running server (which holds the index) instead")
    p.add_argument("--api-key", default=None, help="bearer token for the server, if it needs one")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--json", action="store_true", help="print what was added, changed, unchanged, removed and "
                                                       "skipped as JSON")
    p.set_defaults(func=cmd_index)

    p = sub.add_parser("ask", help="ask a question")
    p.add_argument("question")
    p.add_argument("--json", action="store_true", help="print exactly the JSON body POST /ask returns")
    p.add_argument("--top-k", type=int, default=None, help="passages to return")
    add_filter_arguments(p)
    p.add_argument("--index-dir", help="index folder (default: $QA_INDEX_DIR or .qa-index)")
    p.add_argument("--url", help="ask a running server instead, e.g. http://127.0.0.1:8000")
    p.add_argument("--api-key", default=None, help="bearer token for the server, if it needs one")
    p.set_defaults(func=cmd_ask)

    p = sub.add_parser("serve", help="serve the HTTP API and chat page (builds the index from seeds if missing)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--index-dir", help="index folder (default: $QA_INDEX_DIR or .qa-index)")
    p.add_argument("--log-level", default="warning",
                   help="the server's log level; `info` also logs every request (default: warnings and errors only)")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("migrate", help="copy the index to the other backend, vectors and all (no re-embedding)")
    p.add_argument("--to", required=True, choices=["milvus", "embedded"],
                   help="milvus: from the embedded index ($QA_INDEX_DIR) into $QA_MILVUS_URI; embedded: back")
    p.add_argument("--index-dir", help="the embedded index folder (default: $QA_INDEX_DIR or .qa-index)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_migrate)

    from api.cli_docs import add_parsers

    add_parsers(sub)

    p = sub.add_parser("eval", help="run the eval scripts (see `qa eval --help`)", add_help=False)
    p.add_argument("eval_args", nargs=argparse.REMAINDER)
    p.set_defaults(func=cmd_eval)
    return parser


def _setting_errors(exc: ValidationError) -> str:
    """``invalid setting QA_TOP_K: Input should be a valid integer ...`` for each bad setting, on one line."""
    parts = []
    for err in exc.errors():
        name = "QA_" + "_".join(str(x) for x in err["loc"]).upper()
        parts.append(f"invalid setting {name}: {err['msg'].removeprefix('Value error, ')}")
    return "; ".join(parts)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["eval"]:  # argparse.REMAINDER drops leading options such as `qa eval --json`
        argv = ["eval", "--", *argv[1:]]
    args = build_parser().parse_args(argv)
    try:
        code = int(args.func(args))
        sys.stdout.flush()  # a closed pipe shows up here, inside the handler below, not at interpreter exit
        return code
    except BrokenPipeError:  # `qa ask ... | head -1`: the reader went away; exit quietly, as other Unix tools do
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except QAError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except ValidationError as exc:  # a bad QA_* environment variable
        print(f"error: {_setting_errors(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except json.JSONDecodeError as exc:  # pragma: no cover - defensive
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
