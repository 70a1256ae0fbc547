"""Where the runtime keeps its state in OpenBao / HashiCorp Vault (KV v2), and
the reads everything else builds on. One place names every path, so the
worker's policy (sealed.identity.bootstrap) and the code that reads agree."""

from __future__ import annotations

import re
from typing import Any

import hvac
import hvac.exceptions
import requests

from sealed.identity.backend import SecretUnavailable

KV_MOUNT = "secret"
SECRETS_PREFIX = "sealed/secrets"
PROFILES_PREFIX = "sealed/profiles"
REVOCATIONS_PREFIX = "sealed/revocations"
PROMPTS_PREFIX = "sealed/prompts"
REDACTION_KEY_PATH = "sealed/redaction/key"
CODEC_KEYS_PATH = "sealed/codec/keys"
AUDIT_KEY_PATH = "sealed/audit/key"
AUDIT_ANCHORS_PREFIX = "sealed/audit/anchors"
# Approvers' registered public keys (Sealed IV), {"public_key": "ed25519:..."}.
APPROVERS_PREFIX = "sealed/approvers"
WORKER_ROLE = "sealed-worker"


# OpenBao normalises paths ("x/../y" is "y"): a name that is not one plain
# segment could make a check and the record it checks disagree.
_SEGMENT = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@-]{0,199}")
_DIGEST = re.compile(r"[0-9a-f]{64}")


def _checked(what: str, name: str, *, nested: bool = False) -> str:
    if not all(_SEGMENT.fullmatch(part) for part in (name.split("/") if nested else [name])):
        raise ValueError(f"invalid {what} {name!r}: letters, digits and . _ @ - only")
    return name


def secret_path(name: str) -> str:
    return f"{SECRETS_PREFIX}/{_checked('secret reference', name, nested=True)}"


def profile_path(name: str) -> str:
    return f"{PROFILES_PREFIX}/{_checked('profile name', name)}"


def revocation_path(kind: str, name: str) -> str:
    return f"{REVOCATIONS_PREFIX}/{_checked('revocation kind', kind)}/{_checked(kind, name)}"


def anchor_path(name: str) -> str:
    return f"{AUDIT_ANCHORS_PREFIX}/{_checked('audit anchor name', name)}"


def approver_path(name: str) -> str:
    return f"{APPROVERS_PREFIX}/{_checked('approver name', name)}"


def prompt_path(digest: str) -> str:
    if not _DIGEST.fullmatch(digest):
        raise ValueError("invalid prompt digest: 64 lower-case hex digits")
    return f"{PROMPTS_PREFIX}/{digest}"


def unavailable(what: str, exc: Exception) -> SecretUnavailable:
    """A backend failure as the runtime reports it: what failed and why, never a value."""
    if isinstance(exc, requests.RequestException):
        why = "backend unreachable"
    elif isinstance(exc, hvac.exceptions.Forbidden):
        why = "permission denied by the backend"
    elif isinstance(exc, hvac.exceptions.InvalidPath):
        why = "does not exist"
    else:
        why = f"backend refused ({type(exc).__name__})"
    return SecretUnavailable(f"{what}: {why}")


def read_kv_versioned(
    client: hvac.Client, path: str, mount: str = KV_MOUNT
) -> tuple[dict[str, Any], int] | None:
    """The current data and its version (for check-and-set), or None."""
    try:
        response = client.secrets.kv.v2.read_secret_version(
            path=path, mount_point=mount, raise_on_deleted_version=True
        )
    except hvac.exceptions.InvalidPath:
        return None
    data: dict[str, Any] = response["data"]["data"]
    return data, int(response["data"]["metadata"]["version"])


def read_kv(client: hvac.Client, path: str) -> dict[str, Any] | None:
    found = read_kv_versioned(client, path)
    return None if found is None else found[0]


def write_kv_cas(client: hvac.Client, path: str, data: dict[str, Any], cas: int) -> bool:
    """A check-and-set write (`cas` 0: create only): False if someone else wrote
    first, so concurrent writers never overwrite each other unseen."""
    try:
        client.secrets.kv.v2.create_or_update_secret(
            path=path, secret=data, cas=cas, mount_point=KV_MOUNT
        )
    except hvac.exceptions.InvalidRequest as exc:
        if "check-and-set" in str(exc):
            return False
        raise
    return True
