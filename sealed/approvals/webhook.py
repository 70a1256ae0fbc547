"""How an approval webhook's body is signed: HMAC-SHA256 over the body with
the shared secret, sent as `X-Sealed-Signature: sha256=<hex>`; the notifier
(sealed.activities.approval) signs, a receiver (sealed.approvals.inbox)
checks."""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "X-Sealed-Signature"


def signature(secret: bytes, body: bytes) -> str:
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


def signed(secret: bytes, body: bytes, header: str | None) -> bool:
    """Whether `header` is the body's signature (in constant time)."""
    return header is not None and hmac.compare_digest(
        header.encode(), signature(secret, body).encode()
    )
