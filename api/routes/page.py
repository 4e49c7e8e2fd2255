"""GET /: the chat page (static HTML; its script and styles are served from /static)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"

router = APIRouter(include_in_schema=False)


@router.api_route("/", methods=["GET", "HEAD"])
def chat_page() -> FileResponse:
    return FileResponse(STATIC_DIR / "index.html", media_type="text/html; charset=utf-8")


@router.api_route("/docs", methods=["GET", "HEAD"])
def api_docs() -> FileResponse:
    """Swagger UI from the fastapi-offline package's local files: the docs work offline and under the CSP."""
    return FileResponse(STATIC_DIR / "docs.html", media_type="text/html; charset=utf-8")
