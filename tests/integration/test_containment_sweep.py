"""The containment sweep: a tool and a model that leak a real secret (minted
from OpenBao through the profile's grant) on purpose, in every form a
normalising reader undoes (hidden characters, escapes, entities, compatibility
forms, a structured secret's leaves one at a time), by every way out of an
activity (output, ToolError, an exception retried, a non-retryable
ApplicationError's message and details, a plain exception that ends the
mission, a model's reply, its tool-call arguments and its error); then every
surface is normalised and swept: the history decoded through the codec server,
the stored history, the transcript, what `sealed submit --wait` and `sealed
status` print, the mission's result, the logs, the stack's log files,
OpenBao's audit device, Sealed's audit log and Temporal's database."""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Callable
from pathlib import Path

import pytest
from temporalio.client import Client

from sealed import missions
from sealed.config import Settings
from sealed.devstack import StackInfo
from sealed.directives.policies import DirectivesSpec
from sealed.identity.backend import SecretSpec
from sealed.identity.openbao.admin import VaultAdmin
from sealed.identity.profiles import Profile, ToolGrant
from sealed.models import MissionResult, MissionSpec, MissionStatus
from tests.containment import (
    FORM_GROUPS,
    FORMS,
    LEAF_FORMS,
    decoded_history,
    file_surfaces,
    json_leaves,
    leak_lines,
    normalise,
    shown_through_codec,
    sweep,
)
from tests.containment_tools import ECHO_PROVIDER
from tests.integration.conftest import run_cli

PROFILE = Profile(
    name="containment",
    tools={
        "test.leak": ToolGrant(secrets=["canary", "document"]),
        f"model.{ECHO_PROVIDER}": ToolGrant(secrets=["model_key"]),
    },
    secrets={
        name: SecretSpec(backend="vault-kv", ref=f"containment/{name}")
        for name in ("canary", "document", "model_key")
    },
    # The sweep's model echoes what leaked into its calls' arguments (redacted
    # to placeholders there), and they must run on for every surface to be
    # swept: the directive that would stop the mission at the first is off.
    directives=DirectivesSpec(relax=["sealed.exfiltration"]),
)


@pytest.fixture(scope="module")
def granted(admin_for_tests: VaultAdmin) -> dict[str, str]:
    """The profile's secrets, random per run, written to OpenBao; with each leaf
    of the structured one (an aws-secrets-manager-like document) by name."""
    hex_ = secrets.token_hex
    values = {
        # '/', '&', '<' and '+' so that entities and Go's escapes have work to do.
        "canary": f"Kq{hex_(4)}/Zr&{hex_(4)}<Wm+{hex_(3)}Tx",
        "model_key": f"Mk{hex_(5)}&Jd/{hex_(5)}",
        "document": json.dumps(
            {
                "username": f"svc-{hex_(5)}",
                "password": f"pW{hex_(6)}&/{hex_(3)}",
                "host": f"db-{hex_(4)}.internal.example",
                "port": 5432,
                "account": 800_000_000_000 + secrets.randbelow(10**11),
                "api": {"token": f"ak{hex_(10)}", "enabled": True},
            }
        ),
    }
    for name, value in values.items():
        admin_for_tests.put_secret(f"containment/{name}", value)
    admin_for_tests.apply_profile(PROFILE)
    leaves = {f"document#{i}": leaf for i, leaf in enumerate(json_leaves(values["document"]))}
    return {**values, **leaves}


def leaking_mission(name: str, turns: list[dict[str, object]]) -> MissionSpec:
    return MissionSpec.model_validate(
        {
            "name": name,
            "profile": PROFILE.name,
            "goal": "Use the tool as scripted.",
            "tools": ["test.leak"],
            "limits": {"max_turns": 10, "max_tool_calls": 100},
            "model": {
                "provider": ECHO_PROVIDER,
                "api_key_secret": "model_key",
                "script": {"turns": turns},
            },
        }
    )


def leak(**arguments: object) -> dict[str, object]:
    return {"name": "test.leak", "arguments": arguments}


def outputs_mission(leaves: int) -> MissionSpec:
    """Every form in tool output, one call each (each leaf of the document in
    a call of its own); every form in a ToolError and in an exception its first
    attempt raises; the model's reply and arguments carrying its key in every
    form, then echoing what the tools said; ending on a non-retryable
    ApplicationError."""
    first = [leak(forms=[form], note="{key}" if form == "raw" else "") for form in FORMS] + [
        *(leak(secret="document", leaf=i, forms=list(LEAF_FORMS)) for i in range(leaves)),
        leak(secret="document", forms=["raw"]),
        leak(via="tool_error"),
        *(leak(via="raise_once", forms=list(group)) for group in FORM_GROUPS),
    ]
    return leaking_mission(
        "containment-outputs",
        [
            {"say": "{key}", "tool_calls": first},
            {"say": "{echo}", "tool_calls": [leak(forms=["raw"], note="{echo}")]},
            {"say": "Now the error.", "tool_calls": [leak(via="app_error")]},
        ],
    )


def errors_mission() -> MissionSpec:
    """Each model turn's first attempt fails quoting its key (in a group of the
    forms each); then the tool fails with a plain exception (ToolConfigError)
    that ends the mission."""
    last = len(FORM_GROUPS) - 1
    return leaking_mission(
        "containment-errors",
        [
            {
                "say": f"{{fail-once:{n}}}",
                "tool_calls": [leak(via="config_error") if n == last else leak(forms=["raw"])],
            }
            for n in range(len(FORM_GROUPS))
        ],
    )


async def surfaces_of(
    mission: str,
    handle,
    result: MissionResult,
    follow: list[str],
    stack: StackInfo,
    settings: Settings,
    env: dict[str, str],
) -> dict[str, str]:
    """What a mission leaves readable: its history (decoded by the codec server
    as an operator reads it, and as Temporal stores it), its transcript, what
    following it printed, its result and what `sealed status` prints."""
    codec = shown_through_codec(stack, settings, handle.id)
    code, out, err = await run_cli("status", handle.id, env=env)
    assert code == 0, err
    return {
        f"{mission}: history via the codec server": decoded_history(codec),
        f"{mission}: stored history": decoded_history((await handle.fetch_history()).to_json()),
        f"{mission}: transcript": json.dumps(await handle.query("transcript")),
        f"{mission}: followed (submit --wait)": "\n".join(follow),
        f"{mission}: result": result.model_dump_json(),
        f"{mission}: sealed status": out + err,
    }


async def run(client: Client, settings: Settings, spec: MissionSpec):
    handle = await missions.submit(client, settings, spec)
    follow: list[str] = []
    result = await missions.follow(handle, follow.append)
    return handle, result, follow


async def test_no_form_of_a_leaked_secret_survives_on_any_surface(
    client: Client,
    worker,
    stack: StackInfo,
    stack_settings: Settings,
    stack_env: dict[str, str],
    granted: dict[str, str],
    capfd,
    caplog,
):
    caplog.set_level(logging.DEBUG)
    leaves = sum(name.startswith("document#") for name in granted)
    outputs = await run(client, stack_settings, outputs_mission(leaves))
    errors = await run(client, stack_settings, errors_mission())

    surfaces: dict[str, str] = {}
    for mission, (handle, result, follow) in {"outputs": outputs, "errors": errors}.items():
        surfaces |= await surfaces_of(
            mission, handle, result, follow, stack, stack_settings, stack_env
        )
    out, err = capfd.readouterr()
    surfaces["logs (stdout, stderr)"] = out + err
    surfaces["logs (logging records)"] = caplog.text + "\n".join(
        repr(vars(record)) for record in caplog.records
    )
    files = file_surfaces(Path(stack.data_dir))
    for name in ("temporal.db", "audit.log", "openbao-audit.log"):
        assert f"file {name}" in files, f"no {name} to sweep"
    surfaces |= files

    # Each leak really happened, and reached the surfaces swept (its tag did).
    (_, result, _), (_, failed, _) = outputs, errors
    assert result.status == MissionStatus.FAILED, result.status
    assert "[leak:app_error:canary:raw]" in (result.reason or ""), "not ended by the app error"
    assert failed.status == MissionStatus.FAILED, failed.status
    assert "ToolConfigError: [leak:config_error:canary:raw]" in (failed.reason or ""), (
        "not ended by the plain exception"
    )
    transcript = normalise(surfaces["outputs: transcript"])
    expected = [
        *(f"[leak:output:canary:{form}]" for form in FORMS),
        *(f"[leak:output:document#{i}:{f}]" for i in range(leaves) for f in LEAF_FORMS),
        "[leak:output:document:raw]",
        "[leak:tool_error:canary:raw]",
        "[leak:raise_once] second attempt",
        "[leak:model_say:key:raw]",
        "[leak:model_args:key:raw]",
        "[leak:echo-output:canary:raw]",
    ]
    assert [tag for tag in expected if tag not in transcript] == [], "leaks that never happened"
    # The first attempts' failures are in the history whole (see FORM_GROUPS).
    history = normalise(surfaces["outputs: history via the codec server"])
    lost = [g[0] for g in FORM_GROUPS if f"[leak:raise_once:canary:{g[0]}]" not in history]
    assert lost == [], "retried tool failures missing from the history"
    assert "[leak:app_error-detail:canary:raw]" in history
    history = normalise(surfaces["errors: history via the codec server"])
    lost = [g[0] for g in FORM_GROUPS if f"[leak:model_error:key:{g[0]}]" not in history]
    assert lost == [], "retried model failures missing from the history"

    leaked = sweep(surfaces, granted)
    assert leaked == [], "leaked:\n" + "\n".join(leaked)


# --- the sweep can fail -------------------------------------------------------------------


def _go_json(text: str) -> str:
    return json.dumps(text).replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")


CONTAINERS: dict[str, Callable[[str], str]] = {
    "as is": lambda t: t,
    "JSON, ASCII only": json.dumps,
    "JSON, UTF-8": lambda t: json.dumps(t, ensure_ascii=False),
    "JSON in JSON": lambda t: json.dumps({"data": json.dumps({"text": t})}),
    "Go's JSON": _go_json,
    "a Python repr": repr,
    "a log line": lambda t: f"2026-01-01T00:00:00Z WARN activity failed {{'message': {t!r}}}",
}


@pytest.mark.parametrize("container", CONTAINERS)
def test_the_sweep_finds_every_form_in_every_container(container: str):
    secret = f"Kq{secrets.token_hex(4)}/Zr&{secrets.token_hex(4)}<Wm+x"
    text = CONTAINERS[container](leak_lines("output:canary", secret))
    found = sweep({"surface": text}, {"canary": secret})
    assert found == sorted(
        {f"surface: canary (raw) after [leak:output:canary:{form}]" for form in FORMS}
    )
    # Not the forms' undoing alone: a redacted leak, or a secret cut short, is nothing.
    redacted = leak_lines("output:canary", "[REDACTED:canary]") + secret[:-3]
    assert sweep({"surface": CONTAINERS[container](redacted)}, {"canary": secret}) == []


def test_the_sweep_reads_files_as_bytes(tmp_path: Path):
    secret = f"Mk{secrets.token_hex(6)}"
    (tmp_path / "logs").mkdir()
    junk = bytes(range(256))
    (tmp_path / "temporal.db").write_bytes(
        junk + leak_lines("db", secret, ("ent-zw-200b",)).encode() + junk
    )
    (tmp_path / "logs" / "x.log").write_bytes(junk + b"clean" + junk)
    assert sweep(file_surfaces(tmp_path), {"key": secret}) == [
        "file temporal.db: key (raw) after [leak:db:ent-zw-200b]"
    ]
