"""Revocation (Sealed III-A), end to end: revoking a profile or one mission
records it, kills every credential issued under it at the backend, aborts its
running missions, and makes new submissions fail closed."""

from sealed.revocation.cascade import RevocationReport, Revoker
from sealed.revocation.submission import SubmissionRefused, ensure_submittable

__all__ = ["RevocationReport", "Revoker", "SubmissionRefused", "ensure_submittable"]
