"""Identity and credentials (Sealed I, II, III-D): the profiles a mission runs
under (profiles.py), the one path from a tool call to its secrets (broker.py),
the backends it issues them from (backend.py is the protocol; openbao/, aws.py,
agentcore.py), the mission's verifiable identity (workload.py), and the
provisioning OpenBao needs (bootstrap.py)."""

from sealed.identity.backend import (
    Credential,
    CredentialBackend,
    CredentialRequest,
    Lease,
    SecretSpec,
    SecretUnavailable,
    SecretValue,
)

__all__ = [
    "Credential",
    "CredentialBackend",
    "CredentialRequest",
    "Lease",
    "SecretSpec",
    "SecretUnavailable",
    "SecretValue",
]
