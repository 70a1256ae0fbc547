"""The submission check: a new mission under a revoked, unknown or uncheckable
profile is refused before it reaches Temporal (fail closed). Workers check
again on every call (sealed.identity.openbao.stores.VaultProfiles)."""

from __future__ import annotations

from sealed.identity.openbao.admin import VaultAdmin
from sealed.identity.profiles import Profile
from sealed.models import MissionSpec


class SubmissionRefused(Exception):
    pass


def ensure_submittable(admin: VaultAdmin, spec: MissionSpec) -> Profile:
    """New missions under a revoked or unknown profile fail closed, and so does
    a submission whose check cannot reach the backend. Returns the profile as
    registered: it says where the mission runs (sealed.missions.submit)."""
    try:
        revoked = admin.revocation("profile", spec.profile)
        registered = admin.profile(spec.profile)
    except Exception as exc:
        raise SubmissionRefused(
            f"cannot check profile '{spec.profile}' at the backend ({type(exc).__name__}): "
            "refusing to submit"
        ) from exc
    if revoked is not None:
        raise SubmissionRefused(
            f"profile '{spec.profile}' is revoked ({revoked.reason}, by {revoked.actor} "
            f"at {revoked.at:%F %T} UTC): refusing to submit"
        )
    if registered is None:
        raise SubmissionRefused(
            f"profile '{spec.profile}' is not registered: run `sealed profiles apply` first"
        )
    return registered
