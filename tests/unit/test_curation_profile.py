"""A profile's `exportable`: false (the default), true, or a list of the
tools whose outputs may be exported. Declared means enforced: a tool the
profile does not have cannot be listed, and what was stored before loads."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from sealed.identity.profiles import ExportPolicy, Profile, load_profile
from sealed.spec_loader import SpecError
from tests.curation_support import DEMO_PROFILE

TOOLS: dict[str, dict[str, object]] = {"tickets.list": {}, "tickets.read": {}}


def test_not_exportable_by_default():
    assert Profile(name="p").export_policy() is None
    assert Profile.model_validate({"name": "p", "exportable": False}).export_policy() is None


def test_true_exports_every_tools_output():
    policy = Profile.model_validate({"name": "p", "exportable": True}).export_policy()
    assert policy == ExportPolicy()
    assert policy.allows("tickets.read") and policy.allows("anything.else")


def test_a_tool_list_exports_those_tools_outputs_only():
    profile = Profile.model_validate(
        {"name": "p", "tools": TOOLS, "exportable": {"tools": ["tickets.list"]}}
    )
    policy = profile.export_policy()
    assert policy is not None
    assert policy.allows("tickets.list") and not policy.allows("tickets.read")
    empty = Profile.model_validate({"name": "p", "tools": TOOLS, "exportable": {"tools": []}})
    assert empty.export_policy() == ExportPolicy(tools=[])


@pytest.mark.parametrize(
    ("exportable", "problem"),
    [
        ({"tools": ["tickets.delete"]}, "not among the profile's tools"),
        ({"tools": ["Not A Tool"]}, "should match pattern"),
        ({"tool": ["tickets.list"]}, "Extra inputs are not permitted"),
    ],
)
def test_what_cannot_be_enforced_is_refused(exportable, problem):
    with pytest.raises(ValidationError, match=problem):
        Profile.model_validate({"name": "p", "tools": TOOLS, "exportable": exportable})


def test_a_file_says_what_is_wrong(tmp_path: Path):
    path = tmp_path / "p.yaml"
    path.write_text("name: p\ntools: {tickets.list: {}}\nexportable: {tools: [http.fetch]}\n")
    with pytest.raises(SpecError, match="exportable"):
        load_profile(path)


def test_stored_records_load_as_they_were_written():
    """What `profiles apply` stored (model_dump) reads back the same, old
    records (`exportable: false`) included."""
    for exportable in (False, True, {"tools": ["tickets.read"]}):
        profile = Profile.model_validate({"name": "p", "tools": TOOLS, "exportable": exportable})
        stored = profile.model_dump(mode="json")
        assert stored["exportable"] == exportable
        assert Profile.model_validate(stored) == profile


def test_the_demo_profile_exports_its_ticket_tools_only():
    policy = load_profile(DEMO_PROFILE).export_policy()
    assert policy == ExportPolicy(tools=["tickets.list", "tickets.read", "tickets.comment"])
    assert not policy.allows("http.fetch")
