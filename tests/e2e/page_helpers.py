"""Helpers of the page tests: real uvicorn servers on 127.0.0.1 (free ports) over private copies of the seed index,
and the contexts, pages and screenshots of Debian's Chromium driven by Playwright."""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI

from index.embedder import Embedder
from index.store import IndexStore
from qa.config import Settings
from qa.service import QAService

SEEDS = Path(__file__).resolve().parents[2] / "seeds"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update"]
# Every state the page tests reach is saved here as a PNG (see screenshot()).
SCREENS = Path(__file__).resolve().parents[2] / "test-artifacts" / "ui"
REVIEWED = Path(__file__).resolve().parents[2] / "eval" / "reports" / "ui"

needs_chromium = pytest.mark.skipif(
    not CHROMIUM.exists() and os.environ.get("CI") != "true",
    reason="needs Debian's chromium at /usr/bin/chromium (`make browser-deps` installs it); in CI (CI=true) the "
           "browser tests always run")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Served:
    """A uvicorn server running ``app`` in a thread; ``stop()`` shuts it down (its port is then refused)."""

    url: str
    server: uvicorn.Server
    thread: threading.Thread

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)
        assert not self.thread.is_alive(), "uvicorn did not stop within 30 s"


def serve(app: FastAPI, port: int | None = None) -> Served:
    """Start ``app`` on 127.0.0.1 (a free port unless given) and return once uvicorn says it is listening."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port or free_port(), log_level="warning"))
    thread = threading.Thread(target=server.run, name="uvicorn-test", daemon=True)
    thread.start()
    while not server.started:  # readiness, not a timing assumption: the loop ends when uvicorn says so
        if not thread.is_alive():
            raise RuntimeError("uvicorn exited before it started; see the captured log")
        time.sleep(0.05)
    host, bound = server.servers[0].sockets[0].getsockname()[:2]
    return Served(f"http://{host}:{bound}", server, thread)


def seed_service(seed_index_dir: Path, embedder: Embedder, target: Path, **settings: object) -> QAService:
    """A service over a private copy of the seed index at ``target``."""
    shutil.copytree(seed_index_dir, target)
    config = Settings(index_dir=target, seeds_dir=SEEDS, **settings)  # type: ignore[arg-type]
    return QAService(IndexStore.open(target, embedder), config)


DESKTOP = {"viewport": {"width": 1280, "height": 800}}
PHONE = {"viewport": {"width": 375, "height": 812}, "is_mobile": True, "has_touch": True}


def open_page(browser, url: str, errors: list[str], **context: object):  # type: ignore[no-untyped-def]
    """A new context and page at ``url``; JavaScript errors are appended to ``errors``."""
    ctx = browser.new_context(**{**DESKTOP, **context})
    page = ctx.new_page()
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(url)
    return page


def ask(page, question: str, n: int):  # type: ignore[no-untyped-def]
    """Type a question, press Enter, return the n-th (1-based) finished assistant message."""
    page.fill("#question", question)
    page.press("#question", "Enter")
    answer = page.locator("li.msg--assistant:not(.msg--pending)").nth(n - 1)
    answer.wait_for()
    return answer


def screenshot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    """Save the page as test-artifacts/ui/NAME.png; with QA_SAVE_UI_SCREENS=1 (`make ui-screens`) also as a
    256-colour copy in eval/reports/ui/, the reviewed set that is committed."""
    SCREENS.mkdir(parents=True, exist_ok=True)
    path = SCREENS / f"{name}.png"
    page.screenshot(path=str(path))
    if os.environ.get("QA_SAVE_UI_SCREENS") == "1":
        from PIL import Image

        REVIEWED.mkdir(parents=True, exist_ok=True)
        with Image.open(path) as image:
            image.convert("RGB").quantize(256).save(REVIEWED / f"{name}.png", optimize=True)
