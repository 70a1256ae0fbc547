"""Names that reach OpenBao paths, search attributes and Temporal queries are
one plain name each (red team 9): OpenBao normalises `x/../support-agent` to
`support-agent`, which a search attribute does not, so a mission could run
under a profile its revocation sweep never finds."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from sealed.cli import app
from sealed.identity.openbao.kv import profile_path, prompt_path, revocation_path, secret_path
from sealed.identity.profiles import Profile
from sealed.models import MissionInput, MissionSpec

TRICKS = ["x/../support-agent", "../support-agent", "support-agent/", "support agent", ""]


def spec(profile: str) -> MissionSpec:
    return MissionSpec.model_validate(
        {
            "name": "m",
            "profile": profile,
            "goal": "g",
            "model": {"provider": "scripted", "script": {"turns": [{"final": "ok"}]}},
        }
    )


@pytest.mark.parametrize("name", TRICKS)
def test_a_mission_names_one_plain_profile(name):
    with pytest.raises(ValidationError, match="profile"):
        spec(name)
    with pytest.raises(ValidationError):
        Profile(name=name)


def test_a_mission_id_is_one_plain_name():
    with pytest.raises(ValidationError, match="mission_id"):
        MissionInput(mission_id="a/../b", spec=spec("support-agent"))


@pytest.mark.parametrize(
    "build",
    [
        lambda: profile_path("x/../support-agent"),
        lambda: revocation_path("profile", "../x"),
        lambda: revocation_path("../profile", "x"),
        lambda: secret_path("team/../../profiles/x"),
        lambda: secret_path("/etc"),
        lambda: prompt_path("../../secrets/x"),
    ],
)
def test_openbao_paths_refuse_path_tricks(build):
    with pytest.raises(ValueError, match="invalid"):
        build()


def test_nested_secret_references_still_work():
    assert secret_path("team/db.password") == "sealed/secrets/team/db.password"


@pytest.mark.parametrize(
    "args",
    [
        ["revoke", "profile", "x/../support-agent"],
        ["unrevoke", "profile", "x/../support-agent"],
        ["profiles", "show", "../support-agent"],
        ["revoke", "mission", "a/../b"],
        ["status", "a/../b"],
    ],
)
def test_the_cli_refuses_them_before_any_backend(args, monkeypatch, tmp_path):
    monkeypatch.setenv("SEALED_DATA_DIR", str(tmp_path))  # no stack, no token: never reached
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2
    assert "not a" in result.output
