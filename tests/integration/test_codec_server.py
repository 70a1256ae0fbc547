"""The codec server over real HTTP; the stock `temporal` CLI decoding a real dev
server's encrypted history through it; codec keys kept in a real OpenBao."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import os
import select
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from urllib.parse import urlsplit

import httpx
import hvac
import pytest
from google.protobuf import json_format
from temporalio import activity, workflow
from temporalio.api.common.v1 import Payloads
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from sealed.codec import (
    KEY_ID_META,
    CodecError,
    KeyRing,
    data_converter,
    encrypt_payload,
)
from sealed.codec.server import COOKIE, CodecServer
from sealed.devstack import free_ports
from sealed.devstack.binaries import executable, openbao
from sealed.identity.openbao.keys import provision_vault_keys, read_vault_keys, rotate_vault_keys
from tests.raw_http import head_only

pytestmark = pytest.mark.integration

KEYRING = KeyRing({"k1": b"\x07" * 32}, "k1")
TOKEN = "codec-test-token-0123456789"
UI = "http://127.0.0.1:8233"
SECRET = "customer-ssn-078-05-1120"


@pytest.fixture(scope="module")
def server() -> Iterator[CodecServer]:
    with CodecServer(KEYRING, TOKEN, [UI], allowed_namespaces={"default"}) as s:
        yield s


def body(*texts: str, encrypted: bool = True) -> str:
    payloads = pydantic_data_converter.payload_converter.to_payloads(list(texts))
    if encrypted:
        payloads = [encrypt_payload(KEYRING, p) for p in payloads]
    return json_format.MessageToJson(Payloads(payloads=payloads))


def post(
    server: CodecServer, path: str, content: str, token: str | None = TOKEN, **headers: str
) -> httpx.Response:
    headers = {"Content-Type": "application/json", "X-Namespace": "default", **headers}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}".strip()
    return httpx.post(server.url + path, content=content, headers=headers)


def texts(response: httpx.Response) -> list[str]:
    payloads = json_format.Parse(response.content, Payloads()).payloads
    return list(
        pydantic_data_converter.payload_converter.from_payloads(payloads, [str] * len(payloads))
    )


def test_no_token_no_decoding(server: CodecServer) -> None:
    for token in (None, "", "wrong-token", TOKEN + "x", TOKEN[:-1]):
        for path in ("/decode", "/encode"):
            response = post(server, path, body(SECRET), token=token)
            assert response.status_code == 401, (path, token)
            assert SECRET not in response.text and "payloads" not in response.text
            assert response.headers["WWW-Authenticate"].startswith("Bearer")
    # The token under another scheme is no bearer token.
    basic = post(server, "/decode", body(SECRET), token=None, Authorization=f"Basic {TOKEN}")
    assert basic.status_code == 401


def test_decode_and_encode(server: CodecServer) -> None:
    decoded = post(server, "/decode", body(SECRET, "second"))
    assert decoded.status_code == 200
    assert texts(decoded) == [SECRET, "second"]
    assert decoded.headers["Cache-Control"] == "no-store"
    encoded = post(server, "/encode", body(SECRET, encrypted=False))
    assert encoded.status_code == 200 and SECRET not in encoded.text
    [payload] = json_format.Parse(encoded.content, Payloads()).payloads
    assert payload.metadata[KEY_ID_META] == b"k1"
    assert texts(post(server, "/decode", encoded.text)) == [SECRET]
    # Payloads from before encryption come back unchanged.
    assert texts(post(server, "/decode", body("legacy", encrypted=False))) == ["legacy"]


def test_bad_requests(server: CodecServer) -> None:
    assert post(server, "/decode", "not json").status_code == 400
    assert post(server, "/decode", '{"payloads": "x"}').status_code == 400
    other = KeyRing({"k9": b"\x09" * 32}, "k9")
    unknown = Payloads(
        payloads=[
            encrypt_payload(other, pydantic_data_converter.payload_converter.to_payloads([1])[0])
        ]
    )
    response = post(server, "/decode", json_format.MessageToJson(unknown))
    assert response.status_code == 400 and "'k9'" in response.json()["error"]
    assert post(server, "/decode", body(SECRET), **{"X-Namespace": "other"}).status_code == 403
    assert (
        post(server, "/decode", body(SECRET), **{"Content-Type": "text/plain"}).status_code == 415
    )
    assert post(server, "/nope", body(SECRET)).status_code == 404


def test_cors(server: CodecServer) -> None:
    preflight = {
        "Origin": UI,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type,x-namespace",
    }
    response = httpx.options(server.url + "/decode", headers=preflight)
    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == UI
    allowed = {
        h.strip().lower() for h in response.headers["Access-Control-Allow-Headers"].split(",")
    }
    assert {"authorization", "content-type", "x-namespace"} <= allowed
    assert "POST" in response.headers["Access-Control-Allow-Methods"]
    # The actual request carries the CORS headers too, and only for the UI's origin.
    assert (
        post(server, "/decode", body("x"), Origin=UI).headers["Access-Control-Allow-Origin"] == UI
    )
    evil = httpx.options(server.url + "/decode", headers={**preflight, "Origin": "http://evil"})
    assert "Access-Control-Allow-Origin" not in evil.headers
    assert (
        "Access-Control-Allow-Origin"
        not in post(server, "/decode", body("x"), Origin="http://evil").headers
    )


def test_ui_login_cookie(server: CodecServer) -> None:
    with httpx.Client(base_url=server.url) as browser:
        assert browser.post("/login", data={"token": "wrong"}).status_code == 401
        assert COOKIE not in browser.cookies
        signed_in = browser.post("/login", data={"token": TOKEN})
        assert signed_in.status_code == 200
        assert "HttpOnly" in signed_in.headers["Set-Cookie"]
        cookie = browser.cookies[COOKIE]
        assert TOKEN not in cookie  # the cookie is not the bearer token
        headers = {"Content-Type": "application/json", "X-Namespace": "default"}
        assert texts(browser.post("/decode", content=body(SECRET), headers=headers)) == [SECRET]
    # The cookie value is no bearer token, and a forged cookie is refused.
    assert post(server, "/decode", body(SECRET), token=cookie).status_code == 401
    forged = post(server, "/decode", body(SECRET), token=None, Cookie=f"{COOKIE}=00ff")
    assert forged.status_code == 401


def test_no_token_no_body_read(server: CodecServer) -> None:
    for path in ("/decode", "/encode"):
        for length in (str(200 * 1024 * 1024), "-1", "abc"):
            answer = head_only(server.url, path, f"Content-Length: {length}")
            assert answer.startswith(b"HTTP/1.0 401"), (path, length)


def test_login_reads_a_small_body_only(server: CodecServer) -> None:
    # /login cannot authenticate before its body (the token is in it): a small
    # limit instead of the 32 MiB payloads get, and no negative length.
    assert head_only(server.url, "/login", "Content-Length: -1").startswith(b"HTTP/1.0 400")
    assert head_only(server.url, "/login", "Content-Length: 1048576").startswith(b"HTTP/1.0 413")
    assert head_only(server.url, "/login", "Content-Length: abc").startswith(b"HTTP/1.0 400")


def test_bad_content_lengths_are_refused(server: CodecServer) -> None:
    auth = f"Authorization: Bearer {TOKEN}"
    json_type = "Content-Type: application/json"

    def answer(*headers: str) -> bytes:
        return head_only(server.url, "/decode", auth, json_type, "X-Namespace: default", *headers)

    assert answer("Content-Length: -1").startswith(b"HTTP/1.0 400")
    assert answer("Content-Length: 1_0").startswith(b"HTTP/1.0 400")
    assert answer().startswith(b"HTTP/1.0 411")
    assert answer("Transfer-Encoding: chunked").startswith(b"HTTP/1.0 411")
    assert answer(f"Content-Length: {33 * 1024 * 1024}").startswith(b"HTTP/1.0 413")


def login(server: CodecServer) -> httpx.Response:
    signed_in = httpx.post(server.url + "/login", data={"token": TOKEN})
    assert signed_in.status_code == 200
    return signed_in


def decode_with_cookie(server: CodecServer, cookie: str) -> int:
    return post(server, "/decode", body("x"), token=None, Cookie=f"{COOKIE}={cookie}").status_code


def test_a_session_is_random_not_derived_from_the_token(server: CodecServer) -> None:
    first, second = login(server).cookies[COOKIE], login(server).cookies[COOKIE]
    assert first != second
    assert decode_with_cookie(server, first) == decode_with_cookie(server, second) == 200
    # The old cookie, an HMAC of the token, was valid forever for anyone who had it.
    old = hmac.new(TOKEN.encode(), b"sealed-codec-cookie", hashlib.sha256).hexdigest()
    assert old not in (first, second)
    assert decode_with_cookie(server, old) == 401


def test_a_session_expires() -> None:
    with CodecServer(KEYRING, TOKEN, allowed_namespaces={"default"}, session_lifetime=1) as short:
        signed_in = login(short)
        assert "Max-Age=1;" in signed_in.headers["Set-Cookie"] + ";"
        cookie = signed_in.cookies[COOKIE]
        assert decode_with_cookie(short, cookie) == 200
        time.sleep(1.2)
        assert decode_with_cookie(short, cookie) == 401


def test_live_sessions_are_capped() -> None:
    with CodecServer(KEYRING, TOKEN, max_sessions=2) as capped:
        oldest, *newest = (login(capped).cookies[COOKIE] for _ in range(3))
        assert decode_with_cookie(capped, oldest) == 401
        assert [decode_with_cookie(capped, c) for c in newest] == [200, 200]


def test_an_idle_connection_is_cut_off() -> None:
    with CodecServer(KEYRING, TOKEN, timeout=1.0) as server:
        url = urlsplit(server.url)
        with socket.create_connection((url.hostname, url.port)) as sock:
            assert select.select([sock], [], [], 2.5)[0], "still open after 2.5 s"
            assert sock.recv(1) == b""


def codec_server(*args: str, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "sealed", "codec-server", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def test_the_codec_server_command(tmp_path) -> None:
    """`sealed codec-server` with keys and token from the environment; refusing
    to start without a token or keys."""
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("SEALED_")},
        "SEALED_DATA_DIR": str(tmp_path),
        "SEALED_CODEC_URL": "http://127.0.0.1:0",
        "SEALED_CODEC_TOKEN": TOKEN,
        "SEALED_CODEC_KEYS": "k1=" + KEYRING.to_mapping()["keys"]["k1"],
    }
    proc = codec_server("--allow-origin", UI, env=env)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        url = line.split("listening on ")[1].split()[0]
        response = httpx.post(
            url + "/decode",
            content=body(SECRET),
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"},
        )
        assert texts(response) == [SECRET]
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=10)
    assert proc.returncode == 0
    assert TOKEN not in line + out and SECRET not in line + out

    def refused(**changes: str | None) -> str:
        changed = {k: v for k, v in {**env, **changes}.items() if v is not None}
        done = codec_server(env=changed)
        out, _ = done.communicate(timeout=30)
        assert done.returncode != 0
        return out

    assert "SEALED_CODEC_TOKEN" in refused(SEALED_CODEC_TOKEN=None)
    assert "SEALED_CODEC_KEYS" in refused(SEALED_CODEC_KEYS=None)
    assert "/nonexistent/keys" in refused(SEALED_CODEC_KEYS_FILE="/nonexistent/keys")


# --- the stock CLI against a real dev server -----------------------------------------


@activity.defn
async def shout(text: str) -> str:
    return text.upper()


@workflow.defn(sandboxed=False)
class Shout:
    @workflow.run
    async def run(self, text: str) -> str:
        return await workflow.execute_activity(
            shout, text, start_to_close_timeout=timedelta(seconds=10)
        )


@pytest.fixture(scope="module")
async def dev_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(executable("temporal")),
        data_converter=data_converter(KEYRING),
    )
    yield env
    await env.shutdown()


async def temporal_show(client: Client, workflow_id: str, *extra: str) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        str(executable("temporal")),
        "workflow",
        "show",
        "--workflow-id",
        workflow_id,
        "--address",
        client.service_client.config.target_host,
        "--namespace",
        client.namespace,
        "--output",
        "json",
        *extra,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        # The CLI must not pick up a codec from the environment of whoever runs the tests.
        env={k: v for k, v in os.environ.items() if not k.startswith("TEMPORAL_")},
    )
    out, _ = await asyncio.wait_for(proc.communicate(), timeout=60)
    assert proc.returncode is not None
    return proc.returncode, out.decode()


def shown_payloads(output: str) -> list[tuple[str, str]]:
    """(encoding, data) of every payload in `temporal workflow show -o json`, which
    prints payload metadata and data base64-encoded."""
    found: list[tuple[str, str]] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if set(node) == {"metadata", "data"} and isinstance(node["data"], str):
                encoding = base64.b64decode(node["metadata"].get("encoding", "")).decode()
                found.append((encoding, base64.b64decode(node["data"]).decode(errors="replace")))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(json.loads(output))
    return found


async def test_temporal_cli_decodes_through_the_codec_server(
    dev_env: WorkflowEnvironment, server: CodecServer
) -> None:
    client = dev_env.client
    queue = f"codec-{uuid.uuid4()}"
    workflow_id = f"shout-{uuid.uuid4()}"
    async with Worker(
        client,
        task_queue=queue,
        workflows=[Shout],
        activities=[shout],
        workflow_runner=UnsandboxedWorkflowRunner(),
    ):
        result = await client.execute_workflow(Shout.run, SECRET, id=workflow_id, task_queue=queue)
        assert result == SECRET.upper()

    # Without the codec server: every payload (input, activity input, results) sealed.
    code, plain = await temporal_show(client, workflow_id)
    assert code == 0, plain
    sealed = shown_payloads(plain)
    assert len(sealed) == 4 and {encoding for encoding, _ in sealed} == {"binary/encrypted"}
    assert SECRET not in plain and not any(SECRET.lower() in d.lower() for _, d in sealed)

    # Through it, with the token: the stock CLI reads them in clear.
    code, decoded = await temporal_show(
        client, workflow_id, "--codec-endpoint", server.url, "--codec-auth", f"Bearer {TOKEN}"
    )
    assert code == 0, decoded
    clear = shown_payloads(decoded)
    assert {encoding for encoding, _ in clear} == {"json/plain"}
    assert [d for _, d in clear] == [f'"{SECRET}"'] * 2 + [f'"{SECRET.upper()}"'] * 2

    # A wrong token decodes nothing: the codec server's 401 fails the CLI.
    code, refused = await temporal_show(
        client, workflow_id, "--codec-endpoint", server.url, "--codec-auth", "Bearer wrong"
    )
    assert code != 0 and SECRET not in refused


# --- keys in OpenBao KV v2 -----------------------------------------------------------


@pytest.fixture(scope="module")
def bao() -> Iterator[hvac.Client]:
    """A bare OpenBao dev server (in memory, KV v2 at secret/)."""
    (port,) = free_ports(1)
    proc = subprocess.Popen(
        [
            str(openbao()),
            "server",
            "-dev",
            "-dev-root-token-id=codec-root",
            f"-dev-listen-address=127.0.0.1:{port}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    client = hvac.Client(url=f"http://127.0.0.1:{port}", token="codec-root", timeout=5)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if client.sys.is_initialized() and not client.sys.is_sealed():
                    break
            except Exception:
                if time.monotonic() > deadline:
                    raise
            time.sleep(0.1)
        yield client
    finally:
        proc.terminate()
        proc.wait(timeout=10)


async def test_vault_keys_provision_and_rotate(bao: hvac.Client) -> None:
    with pytest.raises(CodecError, match="sealed bootstrap"):
        read_vault_keys(bao)
    with pytest.raises(CodecError, match="sealed bootstrap"):
        rotate_vault_keys(bao)
    first = provision_vault_keys(bao)
    assert len(first.key_ids) == 1
    # Idempotent: every process reads the same key, none makes its own.
    assert provision_vault_keys(bao).to_mapping() == first.to_mapping()
    assert read_vault_keys(bao).to_mapping() == first.to_mapping()

    old = (await data_converter(first).encode([SECRET]))[0]
    rotated = rotate_vault_keys(bao)
    assert rotated.current != first.current
    assert set(rotated.key_ids) == {first.current, rotated.current}
    stored = read_vault_keys(bao)
    assert stored.to_mapping() == rotated.to_mapping()
    converter = data_converter(stored)
    new = (await converter.encode([SECRET]))[0]
    assert new.metadata[KEY_ID_META] == rotated.current.encode()
    assert await converter.decode([old, new], [str, str]) == [SECRET, SECRET]
    # Concurrent rotations: check-and-set keeps every key either of them added.
    rings = await asyncio.gather(*(asyncio.to_thread(rotate_vault_keys, bao) for _ in range(4)))
    final = read_vault_keys(bao)
    assert {r.current for r in rings} | set(rotated.key_ids) == set(final.key_ids)
