"""The embedded stack's Web UI as a person reads a mission in it: Debian's
chromium, driven by Playwright, signs in to the codec server as the README says
(or opens the one-click link `sealed demo` prints) and opens a finished
mission's page. Its payloads are decoded: the redacted tool result, the signed
approval decision, no codec error banner. With a wrong token they stay
ciphertext. Screenshots are kept in .sealed/test-artifacts/ (web-ui-*.png)."""

from __future__ import annotations

import json
import re
import secrets
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from playwright.async_api import Browser, Locator, Page, async_playwright, expect
from temporalio.client import Client
from temporalio.worker import Worker

from sealed import missions
from sealed.approvals.policy import ApprovalPolicy, ApprovalRule
from sealed.config import CODEC_TOKEN_FILE, Settings
from sealed.demo import DEMO_APPROVER, DEMO_STOPPED_BY, result_deciding
from sealed.devstack import StackInfo
from sealed.identity.backend import SecretSpec
from sealed.identity.openbao.admin import VaultAdmin
from sealed.identity.profiles import Profile, ToolGrant
from sealed.models import MissionSpec, MissionStatus
from tests.integration.conftest import run_cli

pytestmark = pytest.mark.integration

ARTIFACTS = Path(__file__).resolve().parents[2] / ".sealed" / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
# The tool leaks its granted secret; what the page must show is the redactor's marker.
REDACTED = "[leak:output:canary:raw] [REDACTED:canary]"
FINAL = "The canary check is done; its output was redacted."
# The Web UI's own codec error (its banner, its codec button's tooltip), and the
# banner the stack's UI gateway puts in place of the first.
SIGN_IN_BANNER = "Payloads not decoded"
CODEC_ERRORS = re.compile(f"Codec Server could not connect|{SIGN_IN_BANNER}")
PAGE_TIMEOUT = 30_000  # ms: a cold chromium, the UI's bundle, the history, /decode

PROFILE = Profile(
    name="web-ui",
    # test.leak declares both; this mission leaks the canary only.
    tools={"test.leak": ToolGrant(secrets=["canary", "document"])},
    secrets={
        name: SecretSpec(backend="vault-kv", ref=f"web-ui/{name}")
        for name in ("canary", "document")
    },
    approvals=ApprovalPolicy(
        required=[ApprovalRule(tools=["test.leak"], privilege=["low"])],
        approvers=[DEMO_APPROVER],
    ),
)
MISSION = MissionSpec.model_validate(
    {
        "name": "web-ui",
        "profile": PROFILE.name,
        "goal": "Check the canary, once approved.",
        "tools": ["test.leak"],
        "model": {
            "provider": "scripted",
            "script": {
                "turns": [
                    {
                        "say": "Checking the canary.",
                        "tool_calls": [{"name": "test.leak", "arguments": {"forms": ["raw"]}}],
                    },
                    {"final": FINAL},
                ]
            },
        },
    }
)


@pytest.fixture(scope="module")
async def mission(
    client: Client,
    worker: Worker,
    stack_settings: Settings,
    admin_for_tests: VaultAdmin,
    demo_approver_key: Ed25519PrivateKey,
) -> str:
    """A finished mission: its one tool call approved by the demo approver, its
    output (the granted canary) redacted before it reached the history."""
    admin_for_tests.put_secret("web-ui/canary", f"Cn{secrets.token_hex(12)}")
    admin_for_tests.put_secret("web-ui/document", json.dumps({"key": secrets.token_hex(12)}))
    admin_for_tests.apply_profile(PROFILE)
    handle = await missions.submit(client, stack_settings, MISSION)
    result = await result_deciding(client, handle, demo_approver_key)
    assert result.status == MissionStatus.COMPLETED, result
    assert result.answer == FINAL
    return result.mission_id


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    if shutil.which(CHROMIUM) is None:
        pytest.fail(f"{CHROMIUM} is missing: `make system-tools` installs Debian's chromium")
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            yield chromium
        finally:
            await chromium.close()


@pytest.fixture
async def page(browser: Browser) -> AsyncIterator[Page]:
    """A fresh browser profile: no cookie, no local setting of the Web UI's."""
    context = await browser.new_context(viewport={"width": 1400, "height": 1800})
    context.set_default_timeout(PAGE_TIMEOUT)
    try:
        yield await context.new_page()
    finally:
        await context.close()


async def sign_in(page: Page, stack: StackInfo, token: str) -> None:
    """As the README says: the codec server's /login, the token typed in."""
    await page.goto(f"{stack.codec_url}/login")
    await page.get_by_label("Codec token").fill(token)
    await page.get_by_role("button", name="Sign in").click()


async def visible(locator: Locator) -> None:
    await expect(locator).to_be_visible(timeout=PAGE_TIMEOUT)


async def opened(page: Page, summary: str) -> Locator:
    """The details of the (first) event history row whose summary shows `summary`."""
    row = page.locator("tr[data-testid=event-summary-row]").filter(has_text=summary).first
    await row.click()
    details = row.locator("xpath=following-sibling::tr[1]")
    await visible(details)
    return details


async def history(page: Page, mission_id: str, result: str) -> None:
    """The mission's page, decoded: its id, and `result` (a part of its result)
    as text at the top; then its event history."""
    await visible(page.get_by_text(mission_id, exact=True).first)
    await visible(page.get_by_text(result).first)
    await page.get_by_test_id("history-tab").click()


async def expect_approved(page: Page) -> None:
    """The demo approver's signed decision, decoded in the history."""
    decided = await (await opened(page, "Workflow Execution Update Accepted")).inner_text()
    assert re.search(r'"decision":\s*"approve"', decided), decided
    assert re.search(rf'"approver":\s*"{DEMO_APPROVER}"', decided), decided
    assert re.search(r'"signature":\s*"', decided), decided


async def screenshot(page: Page, name: str) -> Path:
    await expect(page.get_by_text(CODEC_ERRORS)).to_have_count(0)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / name
    await page.screenshot(path=str(path))
    return path


async def test_signed_in_as_the_readme_says_the_mission_reads_decoded(
    page: Page, stack: StackInfo, mission: str
) -> None:
    token = (Path(stack.data_dir) / CODEC_TOKEN_FILE).read_text().strip()
    await sign_in(page, stack, token)
    await visible(page.get_by_text("Signed in."))
    # The link `sealed submit --wait` prints: no setting to change in the UI.
    await page.goto(missions.ui_link(stack.settings(), mission))
    await history(page, mission, FINAL)
    tool = await opened(page, '"name":"test.leak","output"')
    assert REDACTED in await tool.inner_text()
    await expect_approved(page)
    # Descending: the tool's result at the top, the approval further down.
    await tool.get_by_text("Activity Task Completed").last.evaluate(
        "title => title.scrollIntoView({block: 'start'})"
    )
    assert (await screenshot(page, "web-ui-mission.png")).stat().st_size > 0


async def test_the_link_sealed_demo_prints_opens_the_mission_decoded_once(
    client: Client,
    worker: Worker,
    browser: Browser,
    page: Page,
    stack: StackInfo,
    stack_env: dict[str, str],
) -> None:
    code, out, err = await run_cli("demo", "--yes", env=stack_env)
    assert code == 0, out + err
    mission_id = re.findall(r"^mission (mission-ticket-triage-[0-9a-f]{8}): aborted", out, re.M)[0]
    links = re.findall(r"^  (http://\S+/signin\?\S+)$", out, re.M)
    assert len(links) == 1, out
    token = (Path(stack.data_dir) / CODEC_TOKEN_FILE).read_text().strip()
    assert token not in out
    # One click: signed in, on the mission's page, the ticket left behind.
    await page.goto(links[0])
    assert page.url == missions.ui_link(stack.settings(), mission_id)
    await history(page, mission_id, f"directive {DEMO_STOPPED_BY}")
    await expect_approved(page)
    await screenshot(page, "web-ui-demo-link.png")
    # Used once: in another browser the same link signs nobody in.
    other = await browser.new_context()
    try:
        again = await other.new_page()
        await again.goto(links[0])
        await visible(again.get_by_text("used already or has expired"))
        assert again.url.startswith(stack.codec_url)
    finally:
        await other.close()


async def test_with_a_wrong_token_the_payloads_stay_encrypted(
    page: Page, stack: StackInfo, mission: str
) -> None:
    await sign_in(page, stack, "not-the-codec-token")
    await visible(page.get_by_text("Wrong token."))
    await page.goto(missions.ui_link(stack.settings(), mission))
    # The banner says where to sign in, and the payloads are the ciphertext.
    await visible(page.get_by_text(SIGN_IN_BANNER))
    await visible(page.get_by_role("link", name=f"{stack.codec_url}/login"))
    body = await page.locator("body").inner_text()
    assert mission in body  # the page is the mission's...
    assert FINAL not in body and '"mission_id"' not in body  # ...its payloads not decoded
    assert re.search(r"[A-Za-z0-9+/]{200,}", body)  # but shown as they are stored
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / "web-ui-wrong-token.png"))
