"""Image checks: real type from the bytes (not the file name), size and dimensions.

Upload-time checks refuse what no platform accepts; per-platform limits (count, bytes, pixels)
become problems on that platform's variant so the user sees exactly where an image is too big.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError

from digipersona.exceptions import ValidationFailed

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 36_152_320  # LinkedIn's documented ceiling, the largest of our platforms
FORMAT_MIME = {"JPEG": "image/jpeg", "PNG": "image/png", "GIF": "image/gif", "WEBP": "image/webp"}


@dataclass(frozen=True)
class ImageInfo:
    mime_type: str
    width: int
    height: int
    size_bytes: int


def inspect_image(data: bytes, filename: str) -> ImageInfo:
    """Identify an uploaded image or raise a 422 saying what is wrong with it."""
    if not data:
        raise ValidationFailed(f"{filename} is empty.")
    if len(data) > MAX_UPLOAD_BYTES:
        raise ValidationFailed(
            f"{filename} is {len(data) / 1_048_576:.1f} MB; images can be at most "
            f"{MAX_UPLOAD_BYTES // 1_048_576} MB."
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                fmt = image.format or ""
                width, height = image.size
                image.verify()
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ValidationFailed(
            f"{filename} is not an image we can post: use JPEG, PNG, GIF or WebP."
        ) from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise ValidationFailed(f"{filename} is a damaged image ({exc}).") from None
    mime = FORMAT_MIME.get(fmt)
    if mime is None:
        raise ValidationFailed(
            f"{filename} is a {fmt or 'unknown'} image; platforms accept JPEG, PNG, GIF and WebP."
        )
    if width * height > MAX_PIXELS:
        raise ValidationFailed(
            f"{filename} is {width}x{height} pixels; the most any platform accepts is "
            f"{MAX_PIXELS:,} pixels (e.g. 6000x6000)."
        )
    return ImageInfo(mime_type=mime, width=width, height=height, size_bytes=len(data))
