"""Known values: every value this runtime issued to a mission is masked
wherever it appears, raw or in any encoding an HTTP client, a JSON encoder or a
template engine produces.

No redactor needs to hold a value it did not issue: the activity that issues a
value keeps only keyed fingerprints of each of its forms (a 20-bit keyed hash of
the form's first 8 bytes, to find candidates fast, and an HMAC of the whole form,
to confirm them), and those fingerprints travel with the mission. Matching slides
the keyed 8-byte hash over the text with numpy and confirms candidates by HMAC.

What is fingerprinted (`encoded_forms`): the value; for a value of 16 bytes or
more, the value with its first or its last character cut off; base64 and
URL-safe base64 at every alignment; hex in either case; and, for escaping done
twice, percent-encoded and JSON-escaped. A value that is a JSON object or array
(an aws-sts credential, an aws-secrets-manager document) also has every string
or number leaf of 8 bytes or more fingerprinted as a value of its own, named
`<secret>.<path>` (`structured_leaves`).

What is matched: the text as it is; the text with line breaks inside a form
skipped (base64 or hex wrapped at any width of 8 or more, `\\n` or `\\r\\n`,
indented); and, around its escapes, the text with one kind of escaping decoded,
one level (`_View`): percent-encoding (either case, whatever was left alone),
backslash escapes (`\\uXXXX` in either case, surrogate pairs, `\\xHH`, `\\n`
and the other letters, a backslash before any punctuation: JSON from any
encoder, Go's and Gson's HTML-safe `\\u003c`, PHP's `\\/`, JS, shell) and
HTML/XML character references (every HTML5 name, decimal, hex in either case,
zero-padded). So one fingerprint of the raw value covers every way of escaping it.

Not covered, by design: deliberate transforms (reversal, ROT13, compression,
encryption, a value split by arbitrary separators, retyped with changes, or
escaped twice in two different ways). Redaction masks what leaks by accident;
what stops a deliberate exfiltration is the directives layer (a policy over
what a call sends out and where)."""

from sealed.redaction.known.forms import (
    ANCHOR,
    MIN_VALUE_LENGTH,
    encoded_forms,
    fingerprint,
    mission_key,
    structured_leaves,
)
from sealed.redaction.known.matcher import KnownValues

__all__ = [
    "ANCHOR",
    "MIN_VALUE_LENGTH",
    "KnownValues",
    "encoded_forms",
    "fingerprint",
    "mission_key",
    "structured_leaves",
]
