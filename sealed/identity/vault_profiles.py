"""The worker's view of registered profiles and revocations, read from OpenBao
with the worker's own identity and cached briefly: a tool call costs the
backend nothing extra, and a revocation reaches every worker within seconds
(the backend itself refuses the profile's credentials at once)."""

from __future__ import annotations

import time

from sealed.identity.backend import SecretUnavailable
from sealed.identity.vault import VaultWorker, profile_path, read_kv, revocation_path
from sealed.profiles import Profile, ProfileNotAllowed


class VaultProfiles:
    def __init__(self, worker: VaultWorker, ttl: float = 2.0) -> None:
        self._worker = worker
        self._ttl = ttl
        self._cache: dict[str, tuple[float, dict[str, object] | None]] = {}

    async def _read(self, what: str, path: str) -> dict[str, object] | None:
        hit = self._cache.get(path)
        if hit is not None and time.monotonic() - hit[0] < self._ttl:
            return hit[1]
        data = await self._worker.acall(what, lambda c: read_kv(c, path))
        self._cache[path] = (time.monotonic(), data)
        return data

    async def for_call(self, profile: str, mission_id: str) -> Profile:
        """The profile a call runs under; raises ProfileNotAllowed when it or
        the mission is revoked, SecretUnavailable when that cannot be known."""
        data = await self._read(f"profile '{profile}'", profile_path(profile))
        if data is None:
            raise ProfileNotAllowed(f"profile '{profile}' is not registered")
        if await self._read("revocations", revocation_path("profile", profile)) is not None:
            raise ProfileNotAllowed(f"profile '{profile}' is revoked")
        if await self._read("revocations", revocation_path("mission", mission_id)) is not None:
            raise ProfileNotAllowed(f"mission '{mission_id}' is revoked")
        try:
            return Profile.model_validate(data)
        except ValueError as exc:
            raise SecretUnavailable(f"profile '{profile}': stored document is invalid") from exc
