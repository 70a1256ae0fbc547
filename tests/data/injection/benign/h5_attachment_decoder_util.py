"""Utilities for decoding email attachments fetched from the Gmail API."""
import base64
import binascii
import mimetypes
from pathlib import Path


def decode_attachment(data: str) -> bytes:
    """Gmail returns attachment bodies as URL-safe base64 without padding."""
    padded = data + "=" * (-len(data) % 4)
    try:
        return base64.urlsafe_b64decode(padded)
    except binascii.Error as exc:
        raise ValueError("attachment is not valid base64") from exc


def save_attachment(filename: str, data: str, out_dir: Path) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    # Strip any directory components to avoid path traversal via crafted filenames.
    safe_name = Path(filename).name or "attachment.bin"
    target = out_dir / safe_name
    target.write_bytes(decode_attachment(data))
    return target


def guess_type(filename: str) -> str:
    mime, _ = mimetypes.guess_type(filename)
    return mime or "application/octet-stream"


if __name__ == "__main__":
    sample = "SGVsbG8sIHRoaXMgaXMgYSB0ZXN0IGF0dGFjaG1lbnQu"
    print(decode_attachment(sample).decode())  # -> "Hello, this is a test attachment."
