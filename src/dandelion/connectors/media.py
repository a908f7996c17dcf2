"""Images a connector publishes: read from their URL with a size limit, and their real type read from their bytes.

``download(url, max_bytes=, timeout=)`` streams the file (http(s) only) and stops as soon as it passes ``max_bytes``
(a permanent ``ConnectorError`` that names the limit); a 4xx answer is permanent, a 5xx or a network failure
transient. ``sniff_image(data)`` is the image's MIME type from its first bytes (JPEG, PNG, GIF, WebP), never the
``Content-Type`` a server claims; ``image_size(data)`` its width and height (Pillow), None when unreadable.
"""

from __future__ import annotations

import io
from urllib.parse import urlsplit

import httpx

from dandelion.connectors.errors import ConnectorError

_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)


def sniff_image(data: bytes) -> str | None:
    """The image type of ``data`` from its signature, or None when it is not a JPEG, PNG, GIF or WebP."""
    for signature, mime in _SIGNATURES:
        if data.startswith(signature):
            return mime
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def image_size(data: bytes) -> tuple[int, int] | None:
    """``(width, height)`` of an image, None when Pillow cannot read its header."""
    try:
        from PIL import Image

        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
    except Exception:  # noqa: BLE001 - any unreadable image just has no known size
        return None
    return (width, height) if width > 0 and height > 0 else None


def download(url: str, *, max_bytes: int, timeout: float, limit_text: str = "") -> bytes:
    """The bytes at ``url`` (see the module); ``limit_text`` describes ``max_bytes`` in the error (``"1 MB"``)."""
    if urlsplit(url).scheme not in ("https", "http"):
        raise ConnectorError(f"the image {url[:200]!r} is not an http(s) URL", permanent=True)
    try:
        with httpx.stream("GET", url, timeout=timeout, follow_redirects=True) as answer:
            if answer.status_code >= 400:
                raise ConnectorError(f"the image {url[:200]} answered HTTP {answer.status_code}",
                                     permanent=answer.status_code < 500)
            data = bytearray()
            for chunk in answer.iter_bytes():
                data += chunk
                if len(data) > max_bytes:
                    raise ConnectorError(f"the image {url[:200]} is larger than {limit_text or f'{max_bytes} bytes'}",
                                         permanent=True)
    except httpx.HTTPError as exc:
        raise ConnectorError(f"cannot read the image {url[:200]} ({str(exc)[:200]})") from exc
    return bytes(data)
