"""Sealed: a Temporal mission runtime for AI agents, with a security spine.

One package per part of the spine (the README's "Where things live"):
identity/ (I, II, III-D), revocation/ (III-A), redaction/ (III-B), pinning/
(III-C), audit/ and codec/ (the observatory); the apps workflows/,
activities/ and workers/ (installed as sealed.workflows, sealed.activities,
sealed.workers); the `sealed` command in cli/; the embedded stack in devstack/."""
