"""Where credentials come from: the CredentialBackend protocol and its implementations."""

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
