"""`qa search`, `qa docs` and `qa rm`: passages and documents from the command line, locally or via `--url`."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING, Any

from api.cli_args import add_filter_arguments, filters_of, settings_of
from qa.models import Passage

if TYPE_CHECKING:
    from api.client import QAClient
    from index.filters import Filters
    from qa.service import QAService


def _local(args: argparse.Namespace, writer: bool = False) -> QAService:
    from qa.service import QAService

    return QAService.from_settings(settings_of(args), writer=writer)


def _client(args: argparse.Namespace) -> QAClient:
    from api.client import QAClient

    return QAClient(args.url, api_key=args.api_key)


def format_passages(passages: list[Passage], filters: Filters | None = None) -> str:
    lines = []
    for i, p in enumerate(passages, 1):
        lines.append(f"[{i}] {p.title} ({p.doc_id}, characters {p.start}-{p.end}, score {p.score:.2f})")
        lines.append(f"    {p.text}")
    if lines:
        return "\n".join(lines)
    if filters is not None:
        return f"No passages (no article matches the filters: {filters.describe()})."
    return "No passages (the index is empty)."


def cmd_search(args: argparse.Namespace) -> int:
    filters = filters_of(args)
    if args.url:
        with _client(args) as client:
            passages = client.search(args.query, args.k, filters)
    else:
        passages = _local(args).search(args.query, args.k, filters)
    if args.json:
        print(json.dumps([p.model_dump() for p in passages], indent=2, ensure_ascii=False))
    else:
        print(format_passages(passages, filters))
    return 0


def cmd_docs(args: argparse.Namespace) -> int:
    body: Any
    if args.url:
        with _client(args) as client:
            body = client.document(args.doc_id) if args.doc_id else client.documents()
    else:
        from api.schemas import DocumentInfo, DocumentText

        service = _local(args)
        body = (DocumentText.of(service.document(args.doc_id)).model_dump() if args.doc_id
                else [DocumentInfo.of(e).model_dump() for e in service.documents()])
    if args.json:
        print(json.dumps(body, indent=2, ensure_ascii=False))
    elif args.doc_id:
        n = body["sentences"]
        print(f"{body['title']} ({body['doc_id']}, {body['chars']:,} characters, {n} sentence{'' if n == 1 else 's'})")
        for key in ("url", "published"):
            if body.get(key):
                print(f"{key}: {body[key]}")
        print()
        print(body["text"])
    else:
        for d in body:
            print(f"{d['doc_id']}\t{d['title']}\t{d['chars']:,} characters\t{d['published'] or 'no date'}")
        print(f"{len(body)} documents")
    return 0


def cmd_rm(args: argparse.Namespace) -> int:
    """Remove documents by id (all or none) and every document of a source, in one write; ``--dry-run`` only names
    them."""
    from index.errors import InvalidInputError

    if not args.doc_ids and args.source is None:
        raise InvalidInputError("name the documents to remove (qa rm ID...) or their source (qa rm --source X)")
    if args.url:
        with _client(args) as client:
            ids = client.delete_many(args.doc_ids, args.source, args.dry_run)
    else:
        ids = _remove_locally(args)
    if args.json:
        print(json.dumps({"deleted": ids, "count": len(ids), "dry_run": args.dry_run}))
        return 0
    verb = "would remove" if args.dry_run else "removed"
    for doc_id in ids:
        print(f"{verb} {doc_id}")
    if args.source is not None:  # the ids named are counted too, but not said to be of the source
        whose = f"named or of source {args.source!r}" if args.doc_ids else f"of source {args.source!r}"
        print(f"{len(ids)} document{'' if len(ids) == 1 else 's'} {whose} "
              + ("would be removed" if args.dry_run else "removed"))
    return 0


def _remove_locally(args: argparse.Namespace) -> list[str]:
    service = _local(args, writer=True)  # holds the index's writer lock until closed
    try:
        return list(service.delete_documents(args.doc_ids, args.source, args.dry_run))
    finally:
        service.store.close()


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--index-dir", help="index folder (default: $QA_INDEX_DIR or .qa-index)")
        p.add_argument("--url", help="use a running server instead, e.g. http://127.0.0.1:8000")
        p.add_argument("--api-key", default=None, help="bearer token for the server, if it needs one")

    p = sub.add_parser("search", help="ranked passages for a query, with offsets")
    p.add_argument("query")
    p.add_argument("-k", type=int, default=None, help="passages to return")
    p.add_argument("--json", action="store_true", help="print exactly the JSON body GET /search returns")
    add_filter_arguments(p)
    common(p)
    p.set_defaults(func=cmd_search)

    p = sub.add_parser("docs", help="list the indexed documents, or show one with its text")
    p.add_argument("doc_id", nargs="?", help="show this document")
    p.add_argument("--json", action="store_true", help="print the JSON body GET /documents[/{id}] returns")
    common(p)
    p.set_defaults(func=cmd_docs)

    p = sub.add_parser("rm", help="remove documents from the index: by id, or every one of a source")
    p.add_argument("doc_ids", nargs="*", metavar="ID", help="documents to remove (all or none: an unknown id removes "
                                                           "nothing)")
    p.add_argument("--source", help="remove every document whose site name, author, URL host or doc_id prefix is "
                                    "this (the --source filter of qa ask)")
    p.add_argument("--dry-run", action="store_true", help="only name the documents that would be removed")
    p.add_argument("--json", action="store_true", help="print the JSON body DELETE /documents returns")
    common(p)
    p.set_defaults(func=cmd_rm)
