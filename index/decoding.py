"""A text file's bytes to ``str``: UTF-8, or the encoding charset-normalizer detects (Windows-1252, Cyrillic ...)."""

from __future__ import annotations

from dataclasses import dataclass

from index.errors import InvalidInputError

MIN_DETECT_BYTES = 16


@dataclass(frozen=True, slots=True)
class DecodedText:
    """A file's text and, when it was not UTF-8, the encoding it was decoded as (a Python codec name: ``cp1252``,
    ``cp1251``, ``utf_16`` ...)."""

    text: str
    encoding: str | None = None


def decode_text(data: bytes) -> DecodedText:
    """Bytes to text, refusing binary and empty content; what is not UTF-8 is decoded as detected."""
    if b"\x00" in data:
        raise InvalidInputError("file looks binary (contains NUL bytes)")
    try:
        decoded = DecodedText(data.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        decoded = _decode_detected(data, exc.start)
    if not decoded.text.strip():
        raise InvalidInputError("file is empty")
    return decoded


def _decode_detected(data: bytes, bad_byte: int) -> DecodedText:
    """Not UTF-8: decode with the encoding charset-normalizer detects (Windows-1252, Latin-1, UTF-16 ...)."""
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
