"""Where secrets come from: the SecretBackend protocol and its implementations."""

from sealed.identity.backend import SecretBackend, SecretUnavailable, SecretValue

__all__ = ["SecretBackend", "SecretUnavailable", "SecretValue"]
