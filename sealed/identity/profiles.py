"""Agent profiles (Sealed I and III-D): the identity a mission runs under, the
tools it may use and, per tool, the secrets that tool may receive."""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path
from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from sealed.approvals.policy import ApprovalPolicy
from sealed.directives.policies import EGRESS_DEFAULTS, DirectivesSpec
from sealed.identity.backend import SecretSpec
from sealed.redaction.patterns import PII_IDS, RULES_BY_ID
from sealed.spec_loader import load_document
from sealed.types import ProfileName, ToolName

# A host name, an IPv4 address or a bracketed IPv6 address; then maybe a port.
_HOST_ENTRY = re.compile(
    r"(?P<host>[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?)*"
    r"|\[(?P<ipv6>[0-9a-f:.]+)\])(?::(?P<port>[0-9]{1,5}))?"
)


class ToolGrant(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    secrets: list[str] = Field(default_factory=list)
    hosts: list[str] = Field(
        default_factory=list,
        description=(
            "http.fetch: internal hosts it may reach although they resolve to a"
            " loopback, link-local, private or other non-public address (it refuses those"
            " otherwise). model.<provider>: the endpoints other than the provider's own"
            " that a mission's model.parameters.base_url may name (its prompt and key go"
            " there). Each entry is an exact host name, IPv4 address or [IPv6] address,"
            " with ':port' to allow that port only; no wildcards. It matches the URL's host"
            " as written, not what the host resolves to."
        ),
    )

    @field_validator("hosts")
    @classmethod
    def _hosts_are_exact(cls, hosts: list[str]) -> list[str]:
        return [_host_entry(entry) for entry in hosts]


def _host_entry(entry: str) -> str:
    """`entry` in the one form http.fetch matches (sealed.tools.netguard.allows):
    lower case, IPv6 compressed and bracketed, a port without leading zeros."""
    if "*" in entry:
        raise ValueError(f"'{entry}': wildcards are not supported, name each host")
    match = _HOST_ENTRY.fullmatch(entry.lower())
    if match is None:
        raise ValueError(f"'{entry}' is not a host, host:port or [IPv6]:port")
    host = match["host"]
    if match["ipv6"] is not None:
        try:
            host = f"[{ipaddress.IPv6Address(match['ipv6']).compressed}]"
        except ValueError:
            raise ValueError(f"'{entry}' is not a valid IPv6 address") from None
    if match["port"] is None:
        return host
    port = int(match["port"])
    if not 0 < port < 65536:
        raise ValueError(f"'{entry}': the port must be between 1 and 65535")
    return f"{host}:{port}"


class RedactionPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    allow_pii: list[str] = Field(
        default_factory=list,
        description=(
            "PII rules (email, iban, ...) whose matches the profile's missions may"
            " process unmasked: in the prompt sent to the model, its reply and tool-call"
            " arguments, tool outputs and errors. Secret-shaped strings and every value"
            " issued to the mission stay masked whatever is listed; empty masks all PII."
        ),
    )

    @field_validator("allow_pii")
    @classmethod
    def _pii_rules_only(cls, names: list[str]) -> list[str]:
        for i, name in enumerate(names):
            if name in names[:i]:
                raise ValueError(f"'{name}' is listed more than once")
            if name not in PII_IDS:
                what = "a secret rule, always masked" if name in RULES_BY_ID else "not a rule"
                raise ValueError(
                    f"'{name}' is {what}; the PII rules are {', '.join(sorted(PII_IDS))}"
                )
        return names


class ExportPolicy(BaseModel):
    """What `sealed curate export` may take of the profile's missions (the
    training loop, sealed.curation): their conversations, each redacted again."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    tools: list[ToolName] | None = Field(
        default=None,
        description=(
            "the tools whose outputs may be exported; None: every tool's. A mission"
            " that called any other tool is not exported at all: the model's later turns"
            " may repeat what that tool said, so no placeholder could keep it out"
        ),
    )

    def allows(self, tool: str) -> bool:
        return self.tools is None or tool in self.tools


class Profile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: ProfileName
    tools: dict[ToolName, ToolGrant] = Field(default_factory=dict)
    secrets: dict[str, SecretSpec] = Field(
        default_factory=dict, description="where each granted secret comes from"
    )
    worker: Literal["shared", "dedicated"] = Field(
        default="shared",
        description=(
            "where the profile's missions run. 'shared': on the shared worker, with every"
            " other shared profile. 'dedicated': on its own task queue, sealed-p-<name>,"
            " served only by workers started with `sealed worker --profiles <name>`, whose"
            " OpenBao login (`sealed bootstrap --worker-for <name>`) can mint credentials"
            " under this profile's token role and no other; the shared worker refuses its"
            " missions, and OpenBao refuses the shared worker its token role."
        ),
    )
    approvals: ApprovalPolicy = Field(
        default_factory=ApprovalPolicy,
        description="which calls wait for a human decision: the floor every mission keeps",
    )
    egress: list[str] = Field(
        default_factory=list,
        description=(
            "hosts the mission's tools may send to: the default directive"
            " sealed.egress-allowlist refuses any other destination of http.fetch or of a"
            " tool that declares one (exact host, host:port or [IPv6], as for `hosts`)"
        ),
    )
    directives: DirectivesSpec = Field(
        default_factory=DirectivesSpec,
        description="Cedar policies over every call and result of the profile's missions",
    )
    redaction: RedactionPolicy = Field(
        default_factory=RedactionPolicy,
        description="what the screens may leave unmasked (missions cannot declare it)",
    )
    # Retired: approvers are named under `approvals`; records that carry the
    # empty default still load.
    approvers: list[str] = Field(default_factory=list)
    exportable: bool | ExportPolicy = Field(
        default=False,
        description=(
            "whether `sealed curate export` may export the profile's finished missions as"
            " training data: false (never), true (with every tool's output), or"
            " {tools: [...]} (only missions that read no other tool's output)"
        ),
    )

    @field_validator("egress")
    @classmethod
    def _egress_is_exact(cls, hosts: list[str]) -> list[str]:
        return [_host_entry(entry) for entry in hosts]

    @field_validator("approvers")
    @classmethod
    def _approvers_moved(cls, approvers: list[str]) -> list[str]:
        if approvers:
            raise ValueError("name approvers under 'approvals: approvers:'")
        return approvers

    @model_validator(mode="after")
    def _grants_are_declared(self) -> Profile:
        for tool, grant in self.tools.items():
            unknown = [s for s in grant.secrets if s not in self.secrets]
            if unknown:
                raise ValueError(f"tool '{tool}' is granted undeclared secrets: {unknown}")
            # Only http.fetch (where the model says) and a model provider (where
            # the mission says) connect anywhere but a fixed place: only they honour hosts.
            if grant.hosts and tool != "http.fetch" and not tool.startswith("model."):
                raise ValueError(
                    f"tool '{tool}' cannot take 'hosts': only http.fetch and model.<provider> do"
                )
        if isinstance(self.exportable, ExportPolicy):
            strangers = [t for t in self.exportable.tools or [] if t not in self.tools]
            if strangers:
                raise ValueError(f"exportable: tools {strangers} are not among the profile's tools")
        # Declared means enforced: with both egress defaults relaxed, nothing
        # would hold the mission's tools to `egress`.
        if self.egress and set(EGRESS_DEFAULTS) <= set(self.directives.relax):
            raise ValueError(
                f"egress: nothing enforces it once {' and '.join(EGRESS_DEFAULTS)} are relaxed"
            )
        return self

    def egress_hosts(self) -> list[str]:
        """The allowlist directives check destinations against: `egress`, and
        the internal hosts http.fetch is granted."""
        granted = [
            h for tool, grant in self.tools.items() if tool == "http.fetch" for h in grant.hosts
        ]
        return sorted({*self.egress, *granted})

    def export_policy(self) -> ExportPolicy | None:
        """What may be exported of the profile's missions; None: nothing."""
        if isinstance(self.exportable, ExportPolicy):
            return self.exportable
        return ExportPolicy() if self.exportable else None

    def granted(self, tool: str) -> set[str]:
        grant = self.tools.get(tool)
        return set(grant.secrets) if grant else set()


class ProfileSource(Protocol):
    async def for_call(self, profile: str, mission_id: str) -> Profile:
        """The profile a tool call runs under; raises when it or the mission is
        revoked (ProfileNotAllowed) or when that cannot be known (fail closed)."""
        ...

    async def revoke_mission(self, mission_id: str, reason: str, actor: str) -> None:
        """Records the mission revoked (a directive aborted it): every worker
        refuses its calls from now on, this one at once."""
        ...


class ProfileNotAllowed(Exception):
    """Not registered, revoked, or not this worker's to serve: the mission
    cannot go on (not retryable)."""


def ensure_served(profile: Profile, serves: frozenset[str] | None) -> None:
    """Declared means enforced on the worker too, before it mints anything: the
    shared worker (`serves` None) refuses a dedicated profile's missions, a
    per-profile worker every profile outside its set. OpenBao refuses either
    the other's token role as well (sealed.identity.openbao.admin.worker_policy):
    this is the clear message in front of that backstop."""
    name = profile.name
    own = (
        f"task queue '{profile_queue(name)}' (`sealed worker --profiles {name}`)"
        if profile.worker == "dedicated"
        else "the shared worker (`sealed worker`)"
    )
    if serves is None and profile.worker == "dedicated":
        raise ProfileNotAllowed(
            f"profile '{name}' is dedicated: the shared worker does not serve it; "
            f"its missions run on {own}"
        )
    if serves is not None and name not in serves:
        raise ProfileNotAllowed(
            f"this worker serves only profiles {', '.join(sorted(serves))}: "
            f"profile '{name}' runs on {own}"
        )


def load_profile(path: str | Path) -> Profile:
    return load_document(Profile, path, "agent profile")


# --- names at the backend ------------------------------------------------------


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9-]", "-", text.lower())


def token_role(profile: str) -> str:
    """The OpenBao token role every credential of the profile is minted under:
    deleting it and revoking its prefix kills them all."""
    return f"sealed-p-{profile}"


def profile_queue(profile: str) -> str:
    """The Temporal task queue a dedicated profile's missions run on, polled by
    its per-profile workers only (the same name as its token role, in
    Temporal's namespace). Changing it strands running missions."""
    return f"sealed-p-{profile}"


def tool_policy(profile: str, tool: str) -> str:
    """One policy per (profile, tool): a call's token can read exactly what the
    profile grants that tool, so the backend refuses anything else too."""
    return f"sealed-p-{profile}-t-{_slug(tool)}"
