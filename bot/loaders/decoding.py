"""Bytes -> text: whole documents (any common encoding), single records of a stream, and file names."""

from __future__ import annotations

import codecs

from charset_normalizer import from_bytes

from bot.loaders.model import ArticleError

BOMS = (  # UTF-32 first: its little-endian BOM starts with UTF-16's
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def bom_encoding(head: bytes) -> str | None:
    """'utf-16' or 'utf-32' when `head` starts with their byte order mark (they contain NUL bytes)."""
    for bom, encoding in BOMS:
        if head.startswith(bom):
            return encoding
    return None


def decode(data: bytes, declared: str | None = None) -> str:
    """Bytes -> text: UTF-8 (BOM stripped), else the declared charset, else charset-normalizer's guess.

    Newlines come out as "\\n". Binary data raises ArticleError rather than becoming mojibake.
    """
    encoding = bom_encoding(data)
    if encoding:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            raise ArticleError(f"binary file (invalid {encoding} text)") from None
    else:
        if b"\x00" in data:
            raise ArticleError("binary file (contains NUL bytes)")
        text = _decode_8bit(data, declared)
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\ufeff", "")


def _decode_8bit(data: bytes, declared: str | None) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    if declared:
        try:
            return data.decode(declared)
        except (LookupError, UnicodeDecodeError):
            pass
    best = from_bytes(data).best()
    if best is None:
        raise ArticleError("binary file (not decodable as text)")
    return str(best)


class RecordDecoder:
    """Decodes the records (lines, list elements) of one streamed file: UTF-8, else the legacy encoding
    guessed from the first record that is not UTF-8, kept for the rest of the file."""

    def __init__(self) -> None:
        self.fallback: str | None = None

    def __call__(self, raw: bytes) -> str:
        if b"\x00" in raw:
            raise ArticleError("binary data (a NUL byte)")
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            pass
        if self.fallback is None:
            best = from_bytes(raw).best()
            if best is None or best.encoding in ("utf_8", "ascii"):
                raise ArticleError("not UTF-8 text") from None
            self.fallback = best.encoding
        try:
            return raw.decode(self.fallback)
        except UnicodeDecodeError:
            raise ArticleError(f"neither UTF-8 nor {self.fallback} text") from None


def readable(name: str) -> str:
    """A path or file name as valid Unicode: bytes that were not UTF-8 (kept by Python as lone
    surrogates) shown as `\\xNN`, so reports, logs, ids and the index never meet unencodable text."""
    try:
        name.encode("utf-8")
        return name
    except UnicodeEncodeError:
        pass
    try:
        raw = name.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # a surrogate that no file system put there
        return name.encode("utf-8", "backslashreplace").decode("utf-8")
    return raw.decode("utf-8", "backslashreplace")
