"""The FastAPI app factory: settings, the service on ``app.state``, middleware, error handlers and routes."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from importlib.resources import files

from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool
from fastapi.middleware.cors import CORSMiddleware
from fastapi.staticfiles import StaticFiles

from api.errors import install_error_handlers
from api.middleware import (
    BodyDeadlineMiddleware,
    BodyLimitMiddleware,
    ConcurrencyLimitMiddleware,
    CrossOriginWriteMiddleware,
    HeadMiddleware,
    SecurityHeadersMiddleware,
)
from api.openapi import install_openapi
from api.routes import ask, chat, documents, health, jobs, openai_compat, page, search
from api.routes.page import STATIC_DIR
from qa.config import Settings
from qa.service import QAService

# Bodies other than document uploads hold questions and conversations; 1 MiB is far above any sane chat.
JSON_BODY_LIMIT = 1024 * 1024
# Multipart framing and the optional JSON fields around an upload.
UPLOAD_OVERHEAD = 64 * 1024
# At shutdown, how long to wait for a running indexing job to commit the batch it is writing.
JOB_STOP_SECONDS = 120.0


def body_limit_for(settings: Settings) -> Callable[[str], int]:
    upload_limit = settings.max_upload_bytes + UPLOAD_OVERHEAD

    def limit(path: str) -> int:
        return upload_limit if path.rstrip("/") == "/documents" else JSON_BODY_LIMIT

    return limit


def create_app(settings: Settings | None = None, service: QAService | None = None) -> FastAPI:
    """Build the app; without ``service`` it is built at startup from ``settings`` (seeds indexed if missing)."""
    settings = settings or (service.settings if service is not None else Settings())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if getattr(app.state, "service", None) is None:
            app.state.service = await run_in_threadpool(QAService.from_settings, settings, True)
        yield
        jobs = getattr(app.state.service, "jobs", None)  # None before startup finished
        if jobs is not None:  # stop background indexing after the current batch (the journal resumes it)
            await run_in_threadpool(jobs.close, JOB_STOP_SECONDS)

    app = FastAPI(
        title="newsqa",
        version="0.1.0",
        summary="Extractive question answering over news articles, with exact-offset citations.",
        lifespan=lifespan,
        docs_url=None,  # served by api.routes.page from local files instead of a CDN
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.service = service

    install_error_handlers(app)
    install_openapi(app, settings)
    for module in (ask, chat, openai_compat, search, documents, jobs, health, page):
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    # Swagger UI 5 (OpenAPI 3.1) as shipped in the fastapi-offline package: no CDN, works offline.
    app.mount("/docs/assets", StaticFiles(directory=str(files("fastapi_offline") / "static")), name="docs-assets")

    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware, allow_origins=settings.cors_origins, allow_methods=["GET", "POST", "DELETE"],
            allow_headers=["Authorization", "Content-Type"],
        )
    app.add_middleware(BodyLimitMiddleware, limit_for=body_limit_for(settings))
    app.add_middleware(ConcurrencyLimitMiddleware, limit=settings.max_concurrent_requests)
    app.add_middleware(BodyDeadlineMiddleware, seconds=settings.body_seconds)
    app.add_middleware(HeadMiddleware)
    app.add_middleware(CrossOriginWriteMiddleware, trusted_origins=settings.cors_origins)
    app.add_middleware(SecurityHeadersMiddleware)
    return app
