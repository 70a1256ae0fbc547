"""What a mission's `model.parameters` may say for each real provider:
checked when the mission is loaded (a misspelt parameter is an error, never
silently ignored) and read again by the provider on every turn.

Imported by sealed.models (ModelSpec checks its parameters here), so this
module, like sealed.llm.base, imports nothing that imports sealed.models."""

from __future__ import annotations

import ipaddress
from typing import ClassVar
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator


class Endpoint(BaseModel):
    """Where a provider sends the mission's prompt and key."""

    model_config = ConfigDict(frozen=True)

    host: str
    port: int
    default: bool = Field(description="the provider's own endpoint, not one the mission named")


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class ProviderParameters(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    base_url: str | None = Field(
        default=None,
        description="the API's root URL, for a compatible server or a private endpoint; "
        "its host must be granted to model.<provider> in the profile",
    )
    # Well within an activity attempt's five minutes, so that a hung server
    # fails the attempt (and Temporal retries it) rather than the whole turn.
    timeout: float = Field(default=120.0, gt=0, le=280, description="seconds per request")
    stream: bool = Field(default=True, description="stream the reply as it is generated")

    DEFAULT_URL: ClassVar[str]

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, url: str | None) -> str | None:
        if url is None:
            return None
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"'{url}' is not an http(s) URL")
        if parts.username or parts.password or parts.query or parts.fragment:
            raise ValueError("base_url: no credentials, query or fragment in the URL")
        return url

    def url(self) -> str:
        return self.base_url or self.DEFAULT_URL

    def endpoint(self) -> Endpoint:
        parts = urlsplit(self.url())
        assert parts.hostname is not None  # checked by _http_url
        port = parts.port or (443 if parts.scheme == "https" else 80)
        return Endpoint(host=parts.hostname, port=port, default=self.base_url is None)

    def check_transport(self, keyed: bool) -> None:
        """A key never travels in clear text beyond this machine."""
        parts = urlsplit(self.url())
        if keyed and parts.scheme == "http" and not _loopback(parts.hostname or ""):
            raise ValueError("base_url: a key is sent only over https (or http to a loopback host)")

    @property
    def needs_key(self) -> bool:
        return True


class OpenAIParameters(ProviderParameters):
    """OpenAI's chat completions API, or any server that speaks it (Azure
    OpenAI's v1 API, vLLM, Ollama, LM Studio)."""

    DEFAULT_URL: ClassVar[str] = "https://api.openai.com/v1"

    organization: str | None = None
    project: str | None = None
    temperature: float | None = Field(default=None, ge=0, le=2)
    max_completion_tokens: int | None = Field(default=None, gt=0)
    max_tokens: int | None = Field(
        default=None, gt=0, description="the older name, for servers that know only it"
    )

    @property
    def needs_key(self) -> bool:
        # A server of one's own (Ollama, vLLM) often takes no key at all.
        return self.base_url is None


class AnthropicParameters(ProviderParameters):
    DEFAULT_URL: ClassVar[str] = "https://api.anthropic.com"

    max_tokens: int = Field(default=4096, gt=0)


class BedrockParameters(ProviderParameters):
    """Amazon Bedrock's Converse API. Its key is AWS credentials: a profile
    secret holding {AccessKeyId, SecretAccessKey[, SessionToken]} as JSON (an
    aws-sts secret is exactly that)."""

    region: str = Field(pattern=r"^[a-z]{2}(-[a-z]+)+-\d{1,2}$")
    max_tokens: int | None = Field(default=None, gt=0)
    temperature: float | None = Field(default=None, ge=0, le=1)

    def url(self) -> str:
        return self.base_url or f"https://bedrock-runtime.{self.region}.amazonaws.com"


PARAMETERS: dict[str, type[ProviderParameters]] = {
    "openai": OpenAIParameters,
    "anthropic": AnthropicParameters,
    "bedrock": BedrockParameters,
}


def provider_parameters(provider: str, parameters: dict[str, object]) -> ProviderParameters | None:
    """A real provider's parameters, checked (ValueError naming each problem);
    None for any other provider, whose parameters are its own business."""
    kind = PARAMETERS.get(provider)
    if kind is None:
        return None
    try:
        return kind.model_validate(parameters)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'parameters'}: {e['msg']}" for e in exc.errors()
        )
        raise ValueError(f"parameters for provider '{provider}': {problems}") from None
