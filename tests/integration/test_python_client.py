"""`sealed.client.connect` against a TLS front of the embedded Temporal server:
the cluster's CA trusted, mTLS, an API key; and the README's example of a
user's own code, run as the README shows it."""

from __future__ import annotations

import asyncio
import os
import re
import sys
from pathlib import Path

import pytest
from temporalio.api.workflowservice.v1 import GetSystemInfoRequest
from temporalio.client import Client
from temporalio.worker import Worker

from sealed.client import connect
from sealed.config import Settings
from sealed.demo import demo_key_file
from sealed.devstack import StackInfo
from tests.tls_proxy import Pem, issue, tls_front

pytestmark = pytest.mark.integration

README = Path(__file__).parents[2] / "README.md"


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Pem]:
    folder = tmp_path_factory.mktemp("pki")
    server_ca = issue(folder, "cluster-ca", ca=True)
    client_ca = issue(folder, "client-ca", ca=True)
    stranger_ca = issue(folder, "stranger-ca", ca=True)
    return {
        "server_ca": server_ca,
        "server": issue(folder, "cluster", (server_ca, "cluster-ca"), ca=False),
        "client_ca": client_ca,
        "client": issue(folder, "worker", (client_ca, "client-ca"), ca=False),
        "stranger": issue(folder, "stranger", (stranger_ca, "stranger-ca"), ca=False),
    }


async def answers(client: Client) -> bool:
    info = await client.workflow_service.get_system_info(GetSystemInfoRequest())
    return bool(info.server_version)


async def refused(**options: object) -> str:
    with pytest.raises(RuntimeError) as caught:
        await asyncio.wait_for(connect(**options), timeout=60)  # type: ignore[arg-type]
    return str(caught.value)


async def test_tls_trusts_the_clusters_ca_and_nothing_else(
    stack_settings: Settings, pki: dict[str, Pem]
) -> None:
    upstream = stack_settings.temporal_address
    async with tls_front(upstream, pki["server"]) as front:
        client = await connect(stack_settings, address=front.address, ca_file=pki["server_ca"].cert)
        assert await answers(client)
        assert front.headers, "the client spoke gRPC through the TLS front"
        # The system's roots do not know this cluster's CA: no connection.
        await refused(settings=stack_settings, address=front.address, tls=True)


async def test_mtls_presents_the_client_certificate(
    stack_settings: Settings, pki: dict[str, Pem]
) -> None:
    upstream = stack_settings.temporal_address
    async with tls_front(upstream, pki["server"], client_ca=pki["client_ca"].cert) as front:
        common = {
            "settings": stack_settings,
            "address": front.address,
            "ca_file": pki["server_ca"].cert,
        }
        await refused(**common)
        stranger = pki["stranger"]
        await refused(**common, cert_file=stranger.cert, key_file=stranger.key)
        assert not front.headers, "refused in the handshake: no request got through"
        mine = pki["client"]
        client = await connect(
            stack_settings,
            address=front.address,
            ca_file=pki["server_ca"].cert,
            cert_file=mine.cert,
            key_file=mine.key,
        )
        assert await answers(client)


async def test_an_api_key_goes_as_a_bearer_token_over_tls(
    stack_settings: Settings, pki: dict[str, Pem]
) -> None:
    key = "sealed-test-api-key-" + os.urandom(6).hex()
    async with tls_front(stack_settings.temporal_address, pki["server"]) as front:
        client = await connect(
            stack_settings, address=front.address, ca_file=pki["server_ca"].cert, api_key=key
        )
        assert await answers(client)
    authorizations = {h.get("authorization") for h in front.headers}
    assert authorizations == {f"Bearer {key}"}, "every request carries the key, as Cloud expects"


def readme_example() -> str:
    text = README.read_text()
    section = text.split("## The Python client", 1)[1].split("\n## ", 1)[0]
    found = re.search(r"```python\n(.*?)```", section, re.S)
    assert found, "the README's Python client section shows its example"
    return found[1]


async def test_the_readme_example_runs_a_mission_end_to_end(
    stack: StackInfo,
    stack_env: dict[str, str],
    worker: Worker,
    tmp_path: Path,
) -> None:
    """The example as a user would run it, in a process of its own with the
    stack's settings in its environment: submit, approve, result, replay."""
    script = tmp_path / "example.py"
    script.write_text(readme_example())
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        str(script),
        cwd=README.parent,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={
            **os.environ,
            **stack_env,
            "SEALED_APPROVER_KEY": str(demo_key_file(Path(stack.data_dir))),
        },
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout=120)
    assert proc.returncode == 0, err.decode()[-3000:]
    printed = out.decode()
    assert " completed Ticket 1 has its triage note." in printed
    assert "tickets.comment approved" in printed
    assert "replayed" in printed and "deterministic" in printed
