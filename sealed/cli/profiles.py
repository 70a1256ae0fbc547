"""`sealed profiles`: register agent profiles at the backend and read them back."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from sealed.cli._shared import ProfileArg, admin, fail, settings
from sealed.cli.directives import check_profile, refuse, registry
from sealed.directives.policies import DirectiveError
from sealed.identity.openbao.admin import ProfileRevoked
from sealed.identity.profiles import load_profile
from sealed.spec_loader import SpecError

app = typer.Typer(no_args_is_help=True, help="Agent profiles: identity, tools, grants.")


@app.command("apply")
def apply(files: Annotated[list[Path], typer.Argument(help="profile YAML files")]) -> None:
    """Register profiles: their per-tool policies and token role at the backend."""
    current = settings()
    operator = admin(current)
    tools = registry(current)
    for file in files:
        try:
            profile = load_profile(file)
            # Its directives are checked here, where a person wrote them, and
            # nothing of the file is applied when they cannot be used.
            check_profile(profile, tools)
            policies = operator.apply_profile(profile)
        except SpecError as exc:
            raise fail(str(exc), code=2) from exc
        except DirectiveError as exc:
            raise refuse(str(file), exc) from exc
        except ProfileRevoked as exc:
            raise fail(str(exc)) from exc
        typer.echo(f"{profile.name}: {len(profile.tools)} tools, policies {', '.join(policies)}")
        if profile.worker == "dedicated":
            typer.echo(
                f"  dedicated: its missions need `sealed worker --profiles {profile.name}`, "
                f"whose login `sealed bootstrap --worker-for {profile.name}` makes"
            )
        if profile.redaction.allow_pii:
            typer.echo(f"  PII left unmasked: {', '.join(profile.redaction.allow_pii)}")


@app.command("show")
def show(name: ProfileArg) -> None:
    """A registered profile, as the workers see it."""
    profile = admin(settings()).profile(name)
    if profile is None:
        raise fail(f"profile '{name}' is not registered")
    typer.echo(profile.model_dump_json(indent=2))
