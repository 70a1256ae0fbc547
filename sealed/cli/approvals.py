"""`sealed pending | approve | deny`: human approval (Sealed IV) from the
command line. A decision is signed here with the approver's own key and sent
as the mission's `decide` update (the same check as the `approve`/`deny`
signals, answered at once); `--print-json` prints it instead, with the stock
`temporal workflow signal` command that sends it."""

from __future__ import annotations

import asyncio
import json
import os
import shlex
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import TypeAdapter, ValidationError
from temporalio.client import Client

from sealed import missions
from sealed.approvals import ApprovalRequest, ApprovalState, Decision, sign_decision
from sealed.approvals.decision import Verdict
from sealed.approvals.inbox import InboxUnavailable, read_inbox
from sealed.approvals.keys import ApproverKeyError, fingerprint, public_text, read_key
from sealed.cli._shared import MissionArg, approver_arg, fail, settings
from sealed.client import connect
from sealed.config import CODEC_TOKEN_FILE, Settings
from sealed.contract import APPROVE_SIGNAL, DENY_SIGNAL
from sealed.devstack.binaries import executable
from sealed.terminal import printable
from sealed.types import Duration

AsApprover = Annotated[
    str, typer.Option("--as", callback=approver_arg, help="your approver name, as registered")
]
KeyFile = Annotated[
    Path,
    typer.Option(
        "--key", help="your private key file (`sealed keys new`: data_dir/approvers/NAME.key)"
    ),
]
RequestArg = Annotated[str, typer.Argument(help="the request id (`sealed pending`)")]
PrintJson = Annotated[
    bool,
    typer.Option(
        "--print-json",
        help="print the signed decision and the `temporal workflow signal` command instead",
    ),
]
Validity = Annotated[
    str, typer.Option("--validity", help="how long the signed decision is good for")
]
_DURATION: TypeAdapter[timedelta] = TypeAdapter(Duration)


def pending(
    limit: Annotated[int, typer.Option(help="missions (or inbox entries) to look at")] = 100,
    inbox: Annotated[
        bool,
        typer.Option(
            "--inbox",
            help="what the approval webhook delivered to the stack's inbox, newest first, "
            "each with its state now",
        ),
    ] = False,
) -> None:
    """Approval requests waiting for a decision, across missions.

    Asks each mission whose SealedStatus is awaiting_approval; with --inbox,
    lists the notifications the embedded stack's inbox received instead."""
    current = settings()
    if inbox:
        asyncio.run(_from_inbox(current, limit))
        return

    async def go() -> None:
        waiting, unanswered = await missions.pending_approvals(await connect(current), limit)
        for mission_id, why in unanswered.items():
            typer.secho(f"{mission_id}: not answering ({printable(why)})", fg="yellow", err=True)
        if not waiting:
            typer.echo("no approval requests waiting")
        for state in waiting:
            for line in describe(state):
                typer.echo(line)

    asyncio.run(go())


async def _from_inbox(current: Settings, limit: int) -> None:
    if current.approval_inbox_url is None:
        raise fail("no approval inbox: start `sealed dev` (or set SEALED_APPROVAL_INBOX_URL)")
    try:
        entries = read_inbox(current.approval_inbox_url, current.inbox_bearer())
    except InboxUnavailable as exc:
        raise fail(f"the approval inbox cannot be read: {exc}") from exc
    entries = entries[::-1][:limit]
    if not entries:
        typer.echo("the approval inbox is empty")
        return
    client = await connect(current)
    answers = await asyncio.gather(
        *(missions.approvals(client, e.request.mission_id) for e in entries),
        return_exceptions=True,
    )
    for entry, answer in zip(entries, answers, strict=True):
        states = [] if isinstance(answer, BaseException) else answer
        state = next((s for s in states if s.request.id == entry.request.id), None)
        silent = "not answering" if isinstance(answer, BaseException) else "unknown"
        now = state.status if state else silent
        lines = describe(state or ApprovalState(request=entry.request))
        lines.insert(1, f"  notified:  {entry.received_at:%F %T %Z}; now {now}")
        for line in lines:
            typer.echo(line)


def describe(state: ApprovalState) -> list[str]:
    """A waiting request as an approver reads it; what the model chose (tool
    and arguments) is shown, never obeyed by the terminal."""
    r = state.request
    arguments = json.dumps(r.arguments, ensure_ascii=False, sort_keys=True)
    approved = f"{len(state.approved_by)} of {r.quorum} approvals"
    if state.approved_by:
        approved += f" ({', '.join(state.approved_by)})"
    escalated = ", escalated" if r.escalated else ""
    why = [f"  held by:   {printable(r.held_by)}"] if r.held_by else []
    return [
        f"{r.mission_id}  {r.id}",
        f"  tool:      {printable(r.tool)} ({r.privilege})",
        f"  arguments: {printable(arguments)}",
        *why,
        f"  digest:    {r.digest}",
        f"  approvers: {', '.join(r.approvers)}; {approved}",
        f"  deadline:  {r.deadline:%F %T %Z} (then {r.on_timeout}{escalated})",
    ]


def approve(
    mission_id: MissionArg,
    request_id: RequestArg,
    approver: AsApprover,
    key: KeyFile,
    edit: Annotated[
        str | None,
        typer.Option(
            "--edit", help="approve these arguments instead (a JSON object, or @file holding one)"
        ),
    ] = None,
    reason: Annotated[str, typer.Option("--reason", help="recorded with the decision")] = "",
    print_json: PrintJson = False,
    validity: Validity = "15m",
) -> None:
    """Approve a waiting request, signed with your key."""
    arguments = _edited(edit) if edit is not None else None
    _decide(
        mission_id, request_id, approver, key, "approve", arguments, reason, print_json, validity
    )


def deny(
    mission_id: MissionArg,
    request_id: RequestArg,
    approver: AsApprover,
    key: KeyFile,
    reason: Annotated[str, typer.Option("--reason", help="told to the model, and recorded")],
    print_json: PrintJson = False,
    validity: Validity = "15m",
) -> None:
    """Deny a waiting request, signed with your key."""
    _decide(mission_id, request_id, approver, key, "deny", None, reason, print_json, validity)


def _edited(edit: str) -> dict[str, Any]:
    text = edit
    if edit.startswith("@"):
        try:
            text = Path(edit[1:]).read_text()
        except OSError as exc:
            raise fail(f"--edit: cannot read {edit[1:]}: {exc.strerror or exc}", code=2) from exc
    try:
        arguments = json.loads(text)
    except ValueError as exc:
        raise fail(f"--edit: not JSON ({exc})", code=2) from exc
    if not isinstance(arguments, dict):
        raise fail("--edit: the arguments are a JSON object", code=2)
    return arguments


def _validity(text: str) -> timedelta:
    try:
        value = _DURATION.validate_python(text)
    except ValidationError:
        value = None
    if value is None or not timedelta(0) < value <= timedelta(days=1):
        raise fail(f"--validity: a duration up to 1d such as 90s, 15m, 2h (not {text!r})", code=2)
    return value


def _decide(
    mission_id: str,
    request_id: str,
    approver: str,
    key_file: Path,
    verdict: Verdict,
    arguments: dict[str, Any] | None,
    reason: str,
    print_json: bool,
    validity: str,
) -> None:
    valid_for = _validity(validity)
    if len(reason) > 2000:
        raise fail("--reason: 2000 characters at most", code=2)
    try:
        key = read_key(key_file)
    except ApproverKeyError as exc:
        raise fail(f"--key: {exc}", code=2) from exc
    current = settings()

    async def go() -> None:
        client = await connect(current)
        request = await _waiting(client, mission_id, request_id, approver)
        decision = sign_decision(
            key,
            request,
            approver=approver,
            decision=verdict,
            arguments=arguments,
            reason=reason,
            now=datetime.now(UTC),
            validity=valid_for,
        )
        if print_json:
            typer.echo(decision_json(decision))
            typer.echo(signal_command(current, decision))
            return
        mine = fingerprint(public_text(key))
        try:
            status = await missions.decide(client, decision)
        except missions.DecisionRefused as exc:
            why = printable(str(exc))
            if "signature" in why:
                why += f" (your key is {mine}; `sealed keys list` shows the registered one)"
            raise fail(f"refused: {why}") from exc
        said = "approved" if verdict == "approve" else "denied"
        typer.echo(f"{request_id}: {said} by {approver} (key {mine}); the request is {status}")

    asyncio.run(go())


async def _waiting(
    client: Client, mission_id: str, request_id: str, approver: str
) -> ApprovalRequest:
    """The request as the mission recorded it (what the signature binds)."""
    try:
        states = await missions.approvals(client, mission_id)
    except Exception as exc:  # the query's RPC and failure errors have no common base
        raise fail(f"cannot ask mission {mission_id} for its approvals: {exc}") from exc
    found = next((s for s in states if s.request.id == request_id), None)
    if found is None:
        raise fail(f"no approval request '{request_id}' in mission {mission_id}")
    if found.status != "pending":
        raise fail(f"request '{request_id}' is already {found.status}")
    if approver not in found.request.approvers:
        raise fail(
            f"'{approver}' may not decide request '{request_id}' "
            f"(its approvers: {', '.join(found.request.approvers)})"
        )
    return found.request


# --- the stock CLI ------------------------------------------------------------------------


def decision_json(decision: Decision) -> str:
    """The signal's input: one line of ASCII JSON (escapes, not raw characters,
    so nothing in it can play tricks on a terminal). It parses back to the very
    decision that was signed."""
    return json.dumps(decision.model_dump(mode="json"), ensure_ascii=True, separators=(",", ":"))


def codec_auth(current: Settings) -> str:
    """The codec server's Authorization header as a shell word that reads the
    token where it is kept, so the printed command never holds it."""
    if os.environ.get("SEALED_CODEC_TOKEN"):
        return '"Bearer $SEALED_CODEC_TOKEN"'
    path = current.data_dir.absolute() / CODEC_TOKEN_FILE
    if not path.exists():
        typer.secho(
            f"no codec token at {path}: set SEALED_CODEC_TOKEN before running the command",
            fg="yellow",
            err=True,
        )
    return f'"Bearer $(cat {shlex.quote(str(path))})"'


def temporal_cli() -> str:
    """`temporal` when it is on PATH, else the embedded extra's beside Python."""
    if shutil.which("temporal"):
        return "temporal"
    try:
        return str(executable("temporal"))
    except FileNotFoundError:
        return "temporal"


def signal_command(current: Settings, decision: Decision) -> str:
    """`temporal workflow signal` that sends `decision` as Sealed's workers
    accept it: its input encrypted by the codec server (`--codec-endpoint`);
    workers refuse a plaintext payload."""
    name = APPROVE_SIGNAL if decision.decision == "approve" else DENY_SIGNAL
    words = [
        temporal_cli(),
        "workflow",
        "signal",
        "--address",
        current.temporal_address,
        "--namespace",
        current.temporal_namespace,
        "--workflow-id",
        decision.mission_id,
        "--name",
        name,
        "--input",
        decision_json(decision),
        "--codec-endpoint",
        current.codec_url,
    ]
    return " ".join(shlex.quote(w) for w in words) + f" --codec-auth {codec_auth(current)}"
