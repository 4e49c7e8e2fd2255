"""A text file's bytes to ``str``: UTF-8, UTF-16 / UTF-32, or the encoding charset-normalizer detects (Windows-1252,
Cyrillic ...)."""

from __future__ import annotations

import codecs
from dataclasses import dataclass

from index.errors import InvalidInputError

MIN_DETECT_BYTES = 16
BINARY = "file looks binary (contains NUL bytes)"
# UTF-32 first: its little-endian mark (FF FE 00 00) begins with UTF-16's (FF FE)
_BOMS = ((codecs.BOM_UTF32_LE, "utf_32_le"), (codecs.BOM_UTF32_BE, "utf_32_be"),
         (codecs.BOM_UTF16_LE, "utf_16_le"), (codecs.BOM_UTF16_BE, "utf_16_be"))


@dataclass(frozen=True, slots=True)
class DecodedText:
    """A file's text and, when it was not UTF-8, the encoding it was decoded as (a Python codec name: ``cp1252``,
    ``cp1251``, ``utf_16_le`` ...)."""

    text: str
    encoding: str | None = None


def decode_text(data: bytes) -> DecodedText:
    """Bytes to text, refusing binary and empty content: UTF-16 / UTF-32 by their byte order mark, else UTF-8, else
    the encoding detected. Without a mark, NUL bytes are binary: UTF-16 without one (rare: Windows writes the mark)
    cannot be told from binary by anything but a guess."""
    decoded = _decode_bom(data)
    if decoded is None and b"\x00" in data:
        raise InvalidInputError(BINARY)
    if decoded is None:
        try:
            decoded = DecodedText(data.decode("utf-8-sig"))
        except UnicodeDecodeError as exc:
            decoded = _decode_detected(data, exc.start)
    if not decoded.text.strip():
        raise InvalidInputError("file is empty")
    return decoded


def _decode_bom(data: bytes) -> DecodedText | None:
    """UTF-16 or UTF-32 text as its byte order mark declares (Notepad's and Excel's "Unicode" files), the mark left
    out of the text as UTF-8's is. None without a mark, or when the bytes after it do not decode (a cut-off file, or
    binary that starts with FF FE): the mark proved nothing, and the file is judged as if it had none."""
    for bom, codec in _BOMS:
        if data.startswith(bom):
            try:
                text = data[len(bom):].decode(codec)
            except UnicodeDecodeError:
                return None
            if "\x00" in text:  # NUL characters are binary behind a lucky first two bytes, not the encoding's NULs
                raise InvalidInputError(BINARY)
            return DecodedText(text, codec)
    return None


def _decode_detected(data: bytes, bad_byte: int) -> DecodedText:
    """Not UTF-8: decode with the encoding charset-normalizer detects (Windows-1252, Latin-1, Cyrillic ...)."""
    from charset_normalizer import from_bytes

    if len(data) < MIN_DETECT_BYTES:  # a few bytes fit some code page whatever they are: no guess is trustworthy
        raise InvalidInputError(f"file is not valid UTF-8 (byte {bad_byte}) and too short to detect its encoding")
    best = from_bytes(data).best()
    if best is None:
        raise InvalidInputError(f"file is not valid UTF-8 (byte {bad_byte}) and its encoding could not be detected")
    # Western text fits several single-byte code pages equally well (charset-normalizer ranks cp1250 over cp1252 for
    # "Zürich: Über 500 Bürger"): Windows-1252, what browsers read "Latin-1" as, wins when it reads the bytes as
    # cleanly as the best guess. Cyrillic or Greek bytes are no clean cp1252 and keep their detected code page.
    western = from_bytes(data, cp_isolation=["cp1252"]).best()
    match = western if western is not None and western.chaos <= best.chaos + 0.02 else best
    return DecodedText(str(match), match.encoding)
