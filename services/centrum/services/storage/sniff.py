"""Content sniffing: the media type the first bytes of an object show, against the declared one.

Magic numbers identify PNG, JPEG, GIF, PDF, ZIP and GZIP; text is told by valid UTF-8 without
binary control characters, and JSON by its first significant character. A declared type is
rejected when the bytes clearly are something else: an image declared as a PDF, binary bytes
declared as text, text declared as an image.
"""

from __future__ import annotations

__all__ = ["SNIFF_BYTES", "declared_type_matches", "sniff"]

SNIFF_BYTES = 512
"""How many leading bytes sniffing looks at."""

_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"%PDF-", "application/pdf"),
    (b"PK\x03\x04", "application/zip"),
    (b"PK\x05\x06", "application/zip"),
    (b"PK\x07\x08", "application/zip"),
    (b"\x1f\x8b", "application/gzip"),
)
_MAGIC_TYPES = frozenset(t for _, t in _MAGIC)
# Declared types a sniffed container format may legitimately carry.
_COMPATIBLE = {
    "image/jpeg": {"image/jpg", "image/pjpeg"},
    "application/zip": {
        "application/x-zip-compressed",
        "application/java-archive",
        "application/vnd.android.package-archive",
    },
    "application/gzip": {"application/x-gzip", "application/x-tar+gzip"},
}
_TEXTUAL_APPLICATION = {
    "application/json",
    "application/xml",
    "application/javascript",
    "application/x-ndjson",
    "application/yaml",
    "application/x-yaml",
    "application/sql",
    "application/csv",
    "image/svg+xml",
}
_CONTROL_OK = {9, 10, 12, 13}
_JSON_START = set(b'{["-0123456789tfn')


def sniff(head: bytes) -> str:
    """The media type `head` (the first bytes of an object) shows.

    One of the magic types, "application/json", "text/plain", or "application/octet-stream"
    when nothing is recognised; "" for no bytes at all.
    """
    if not head:
        return ""
    for magic, media_type in _MAGIC:
        if head.startswith(magic):
            return media_type
    if _is_text(head):
        stripped = head.lstrip(b" \t\r\n\xef\xbb\xbf")
        return "application/json" if stripped[:1] and stripped[0] in _JSON_START else "text/plain"
    return "application/octet-stream"


def _is_text(head: bytes) -> bool:
    if any(b < 32 and b not in _CONTROL_OK for b in head) or 127 in head:
        return False
    for cut in range(4):  # the sniffed window may end inside a multi-byte character
        try:
            head[: len(head) - cut].decode("utf-8")
        except UnicodeDecodeError:
            continue
        return True
    return False


def _textual(declared: str) -> bool:
    return (
        declared.startswith("text/")
        or declared in _TEXTUAL_APPLICATION
        or declared.endswith(("+json", "+xml"))
    )


def declared_type_matches(declared: str, sniffed: str) -> bool:
    """Whether the declared media type is consistent with the sniffed one."""
    declared = declared.lower()
    if not sniffed or declared == "application/octet-stream":
        return True
    if sniffed in _MAGIC_TYPES:
        return (
            declared == sniffed
            or declared in _COMPATIBLE.get(sniffed, set())
            or (sniffed == "application/zip" and declared.endswith("+zip"))
            or (sniffed == "application/zip" and declared.startswith("application/vnd."))
        )
    if declared in _MAGIC_TYPES or any(declared in c for c in _COMPATIBLE.values()):
        return False
    if sniffed in ("text/plain", "application/json"):
        if declared == "application/json" or declared.endswith("+json"):
            return sniffed == "application/json"
        return _textual(declared) or not declared.startswith(("image/", "audio/", "video/"))
    return not _textual(declared)
