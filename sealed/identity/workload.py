"""Verifiable workload identity (Sealed I): a mission's short-lived JWT, signed
by OpenBao's identity token endpoint, whose `spiffe_id` claim names the profile
and the mission. A service checks it against OpenBao's published keys."""

from __future__ import annotations

import re

import jwt
from pydantic import BaseModel, ConfigDict

OIDC_KEY = "sealed"
OIDC_ROLE = "sealed-mission"
AUDIENCE = "sealed-services"
_SPIFFE = re.compile(r"^spiffe://sealed/profile/([a-z][a-z0-9-]*)/mission/([^/]+)$")


def spiffe_id(profile: str, mission_id: str) -> str:
    return f"spiffe://sealed/profile/{profile}/mission/{mission_id}"


def spiffe_pattern(profile: str) -> str:
    """Every mission identity the profile's token role may mint."""
    return f"spiffe://sealed/profile/{profile}/mission/*"


def claims_template(token_mount_accessor: str) -> str:
    """The identity token's extra claim: the entity alias the call token was
    minted with, which is the mission's SPIFFE id."""
    return f'{{"spiffe_id": {{{{identity.entity.aliases.{token_mount_accessor}.name}}}}}}'


class InvalidIdentity(Exception):
    pass


class WorkloadIdentity(BaseModel):
    model_config = ConfigDict(frozen=True)

    profile: str
    mission_id: str
    spiffe_id: str


class IdentityVerifier:
    """Checks a mission identity token: signature against the issuer's published
    keys, expiry, audience, issuer, and a profile on the allowlist."""

    def __init__(self, issuer: str, allowed_profiles: set[str], audience: str = AUDIENCE) -> None:
        self._issuer = issuer.rstrip("/")
        self._keys = jwt.PyJWKClient(f"{self._issuer}/.well-known/keys", cache_keys=True)
        self._allowed = allowed_profiles
        self._audience = audience

    def verify(self, token: str) -> WorkloadIdentity:
        try:
            key = self._keys.get_signing_key_from_jwt(token)
            claims = jwt.decode(
                token,
                key.key,
                algorithms=["RS256", "ES256", "EdDSA"],
                audience=self._audience,
                issuer=self._issuer,
                options={"require": ["exp", "iat", "aud", "iss", "sub"]},
            )
        except jwt.PyJWTError as exc:
            raise InvalidIdentity(f"identity token rejected: {exc}") from exc
        match = _SPIFFE.match(str(claims.get("spiffe_id", "")))
        if match is None:
            raise InvalidIdentity("identity token carries no Sealed mission identity")
        identity = WorkloadIdentity(
            profile=match[1], mission_id=match[2], spiffe_id=claims["spiffe_id"]
        )
        if identity.profile not in self._allowed:
            raise InvalidIdentity(f"profile '{identity.profile}' may not write here")
        return identity
