"""What an export reads from OpenBao with the operator's token, as registered
there (never as a mission says): the profiles and their revocations, the
missions' pinned original prompts, and the redaction key their fingerprints
were made with."""

from __future__ import annotations

import base64

from pydantic import ValidationError

from sealed.identity.backend import SecretUnavailable
from sealed.identity.openbao.admin import VaultAdmin
from sealed.identity.openbao.kv import REDACTION_KEY_PATH, read_kv
from sealed.identity.openbao.stores import read_original
from sealed.identity.profiles import Profile
from sealed.models import OriginalPrompt


class OperatorRegistry:
    """sealed.curation.export.Registry over OpenBao; every failure to read is
    SecretUnavailable (what, and why; never a value)."""

    def __init__(self, admin: VaultAdmin) -> None:
        self._admin = admin

    def profile(self, name: str) -> Profile | None:
        try:
            return self._admin.call(f"profile '{name}'", lambda _: self._admin.profile(name))
        except ValidationError:
            raise SecretUnavailable(f"profile '{name}': stored document is invalid") from None

    def revoked(self, profile: str) -> bool:
        found = self._admin.call(
            "revocations", lambda _: self._admin.revocation("profile", profile)
        )
        return found is not None

    def original(self, digest: str) -> OriginalPrompt:
        return self._admin.call("original prompt", lambda c: read_original(c, digest))

    def redaction_key(self) -> bytes:
        data = self._admin.call("redaction key", lambda c: read_kv(c, REDACTION_KEY_PATH))
        if data is None:
            raise SecretUnavailable("redaction key: not provisioned (run `sealed bootstrap`)")
        return base64.b64decode(str(data["value"]))
