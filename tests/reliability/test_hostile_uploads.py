"""Hostile uploads against a real `qa serve`: a parser failure is a 4xx on a connection that stays open, and a small
DOCX that unpacks to 96 MiB of XML, or a 10 MB HTML page of text, is refused quickly with the server's memory bounded
(its RSS, sampled while the upload is handled, grows less than 200 MB)."""

from __future__ import annotations

import http.client
import json
import shutil
import threading
import time
import zipfile
from collections.abc import Iterator
from io import BytesIO
from pathlib import Path

import docx
import httpx
import psutil
import pytest
from conftest_server import serve_process

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
XML_BYTES = 96 * 1024 * 1024
MAX_SECONDS = 5.0  # the bound for refusing the 96 MiB-XML DOCX (a hang or a whole parse takes minutes)
MAX_RSS_GROWTH = 200 * 1024 * 1024


@pytest.fixture(scope="module")
def server(seed_index_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[psutil.Process, str]]:
    index_dir = tmp_path_factory.mktemp("hostile") / "index"
    shutil.copytree(seed_index_dir, index_dir)
    for proc, url in serve_process(index_dir):
        yield psutil.Process(proc.pid), url


def _multipart(name: str, data: bytes) -> tuple[bytes, str]:
    boundary = "hostile-upload-boundary"
    body = (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


@pytest.mark.parametrize(("name", "data", "detail"), [
    ("deep.json", b"[" * 200_000 + b"]" * 200_000,
     "invalid JSON at line 1: nested too deeply; an article record is an object of strings"),
    ("big.jsonl", b'{"title": "T", "text": "Body.", "n": ' + b"7" * 5_000 + b"}",
     "invalid JSON at line 1: a number has more than 4,300 digits"),
])
def test_parser_failures_are_422_and_keep_the_connection(server: tuple[psutil.Process, str], name: str, data: bytes,
                                                         detail: str) -> None:
    _, url = server
    conn = http.client.HTTPConnection("127.0.0.1", int(url.rsplit(":", 1)[1]), timeout=60)
    try:
        body, content_type = _multipart(name, data)
        conn.request("POST", "/documents", body=body, headers={"Content-Type": content_type})
        sock = conn.sock
        response = conn.getresponse()
        assert (response.status, json.loads(response.read())) == (422, {"detail": detail})
        assert not response.will_close
        conn.request("GET", "/health")  # on the same socket: the server kept the connection
        assert conn.sock is sock and conn.getresponse().status == 200
    finally:
        conn.close()


def _bomb(paragraph: str) -> bytes:
    """A python-docx package whose main part is ``paragraph`` repeated to 96 MiB of XML (what Word would open)."""
    template = docx.Document()
    template.add_paragraph("placeholder")
    saved = BytesIO()
    template.save(saved)
    package_in = zipfile.ZipFile(saved)
    out = BytesIO()
    head, tail = f'<w:document xmlns:w="{W_NS}"><w:body>'.encode(), b"</w:body></w:document>"
    block = paragraph.encode() * (1024 * 1024 // len(paragraph))
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as package:
        for info in package_in.infolist():
            if info.filename != "word/document.xml":
                package.writestr(info, package_in.read(info))
        with package.open("word/document.xml", "w", force_zip64=True) as part:
            written = part.write(head)
            while written + len(block) + len(tail) <= XML_BYTES:
                written += part.write(block)
            part.write(tail)
    return out.getvalue()


class PeakRss:
    """Samples a process's resident memory every 20 ms while the block runs; ``growth`` is the peak over the start."""

    def __init__(self, process: psutil.Process) -> None:
        self.process, self.stop = process, threading.Event()
        self.start = self.peak = process.memory_info().rss
        self.thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self.stop.wait(0.02):
            self.peak = max(self.peak, self.process.memory_info().rss)

    def __enter__(self) -> PeakRss:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop.set()
        self.thread.join()
        self.peak = max(self.peak, self.process.memory_info().rss)

    @property
    def growth(self) -> int:
        return self.peak - self.start


@pytest.mark.parametrize(("paragraph", "detail"), [
    ("<w:p><w:r><w:t>Harbour council news. </w:t></w:r></w:p>",
     "DOCX file holds more than 200,000 characters of text, over the document limit (QA_MAX_DOCUMENT_CHARS); "
     "split the article"),
    ("<w:p><w:r><w:rPr><w:b/></w:rPr></w:r></w:p>",  # markup and no text: never reaches the character limit
     "DOCX main part word/document.xml is over 4,000,000 bytes of XML; split the article"),
], ids=["text", "markup"])
def test_docx_bomb_is_refused_fast_with_bounded_memory(server: tuple[psutil.Process, str], paragraph: str,
                                                       detail: str) -> None:
    process, url = server
    bomb = _bomb(paragraph)
    with zipfile.ZipFile(BytesIO(bomb)) as package:
        assert package.getinfo("word/document.xml").file_size > 95 * 1024 * 1024
    assert len(bomb) < 400_000
    with httpx.Client(base_url=url, timeout=120) as client:
        # a small DOCX first, so the parser's imports and thread are not counted as the bomb's
        assert client.post("/documents", files={"file": ("warm.docx", _small_docx())}).status_code == 201
        with PeakRss(process) as rss:
            started = time.monotonic()
            response = client.post("/documents", files={"file": ("bomb.docx", bomb)})
            elapsed = time.monotonic() - started
    assert (response.status_code, response.json()) == (413, {"detail": detail})
    assert elapsed < MAX_SECONDS, f"refused after {elapsed:.1f} s"
    assert rss.growth < MAX_RSS_GROWTH, f"server RSS grew {rss.growth / 2**20:.0f} MiB"


def _small_docx() -> bytes:
    document = docx.Document()
    document.add_paragraph("Harbour council approves the budget for the new pier.")
    out = BytesIO()
    document.save(out)
    return out.getvalue()


def test_html_page_of_10_mb_text_is_refused_fast_with_bounded_memory(server: tuple[psutil.Process, str]) -> None:
    process, url = server
    paragraph = "<p>" + "The harbour council met on Monday and voted on the budget for the pier. " * 40 + "</p>\n"
    page = ("<html><body><article>" + paragraph * (10_000_000 // len(paragraph)) + "</article></body></html>").encode()
    with httpx.Client(base_url=url, timeout=120) as client, PeakRss(process) as rss:
        started = time.monotonic()
        response = client.post("/documents", files={"file": ("page.html", page)})
        elapsed = time.monotonic() - started
    assert (response.status_code, response.json()) == (413, {"detail": (
        "HTML page holds more than 1,000,000 characters of text (5 times the document limit, QA_MAX_DOCUMENT_CHARS); "
        "save the article alone")})
    assert elapsed < MAX_SECONDS, f"refused after {elapsed:.1f} s"
    assert rss.growth < MAX_RSS_GROWTH, f"server RSS grew {rss.growth / 2**20:.0f} MiB"
