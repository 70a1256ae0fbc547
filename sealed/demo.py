"""The demo's mission and profiles. They ship inside the package (package data,
`sealed/examples` in a checkout is the top-level `examples/`), so `sealed demo`
and `sealed dev` work after a plain `pip install`.

The demo profile holds `tickets.comment` for a human approval by the demo
approver, whose key the dev stack makes on its first start (0600 in the data
directory) and registers in OpenBao on every start; `sealed demo` asks in the
terminal, or with `--yes` approves with that key. `result_deciding` does the
same for tests and benchmarks.

Ticket 3 carries a planted instruction; the demo's gullible model obeys it and
tries to send a customer's address (read from ticket 1) to an outside host.
The shipped directive DEMO_STOPPED_BY aborts the mission before that call."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from temporalio.client import Client, WorkflowHandle

from sealed import missions
from sealed.approvals import ApprovalState, Decision, sign_decision
from sealed.approvals.decision import Verdict
from sealed.approvals.keys import new_key, read_key, write_key
from sealed.models import MissionResult

EXAMPLES = Path(__file__).resolve().parent / "examples"
DEMO_MISSION = EXAMPLES / "missions" / "triage.yaml"
DEMO_STOPPED_BY = "sealed.untrusted-egress"
EXAMPLE_PROFILES = EXAMPLES / "profiles"
# The profiles the demo's ticket service accepts writes from.
TICKET_WRITERS = ("support-agent",)
# Who approves the demo's comment (examples/profiles/support-agent.yaml). A
# mission's submitter may not approve its own calls: Settings.operator (the OS
# user name by default) is never this name.
DEMO_APPROVER = "demo-approver"


def demo_key_file(data_dir: Path) -> Path:
    """Where the demo approver's private key is kept (as `sealed keys new`
    keeps any approver's: data_dir/approvers/NAME.key)."""
    return data_dir / "approvers" / f"{DEMO_APPROVER}.key"


def demo_key(data_dir: Path, *, create: bool = False) -> Ed25519PrivateKey:
    """The demo approver's private key; with `create`, made on first use
    (0600, in a 0700 folder) and reused after. ApproverKeyError when it is
    missing or unreadable."""
    path = demo_key_file(data_dir)
    if create and not path.exists() and not path.is_symlink():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        write_key(path, new_key())
    if path.exists() and path.stat().st_mode & 0o077:
        path.chmod(0o600)  # a copy restored with looser modes: the owner's alone again
    return read_key(path)


def decision(
    key: Ed25519PrivateKey,
    state: ApprovalState,
    verdict: Verdict = "approve",
    *,
    reason: str = "",
    approver: str = DEMO_APPROVER,
) -> Decision:
    """A decision on a waiting request, signed with `key` now."""
    return sign_decision(
        key,
        state.request,
        approver=approver,
        decision=verdict,
        reason=reason,
        now=datetime.now(UTC),
    )


def deciding(
    client: Client,
    key: Ed25519PrivateKey,
    verdict: Verdict = "approve",
    *,
    reason: str = "",
    approver: str = DEMO_APPROVER,
) -> missions.Answer:
    """An answer for missions.follow or missions.answering: every request
    decided (`verdict`, signed with `key` as `approver`) by the `decide` update;
    a refused decision raises missions.DecisionRefused."""

    async def decide(state: ApprovalState) -> None:
        await missions.decide(
            client, decision(key, state, verdict, reason=reason, approver=approver)
        )

    return decide


async def result_deciding(
    client: Client,
    handle: WorkflowHandle[object, MissionResult],
    key: Ed25519PrivateKey,
    verdict: Verdict = "approve",
    *,
    reason: str = "",
    approver: str = DEMO_APPROVER,
) -> MissionResult:
    """The mission's result, every approval request it waits on meanwhile
    decided as `deciding` does."""
    answer = deciding(client, key, verdict, reason=reason, approver=approver)
    return await missions.answering(handle.result(), handle, answer)
