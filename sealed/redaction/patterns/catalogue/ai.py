"""Model providers: Anthropic, OpenAI, Cohere, Hugging Face, Perplexity,
Private AI, Groq, Replicate, xAI, LangSmith (what an agent runtime is most
likely to hold)."""

from __future__ import annotations

import re
from typing import Final

from sealed.redaction.patterns.catalogue._build import B62, B64URL, after, assigned, prefixed, rx
from sealed.redaction.patterns.rule import Rule
from sealed.redaction.patterns.validators import mixed_token

RULES: Final[tuple[Rule, ...]] = (
    Rule(
        "anthropic-api-key",
        "Anthropic API, admin or OAuth key (sk-ant-api03-, sk-ant-admin01-, sk-ant-oat01-)",
        rx(
            after("sk-ant-", B62 + "_-") + r"[a-z]{2,10}[0-9]{2}-[A-Za-z0-9_-]{32,250}"
            r"(?![A-Za-z0-9_-])"
        ),
        ("sk-ant-",),
        validate=mixed_token(7),
        max_len=275,
    ),
    Rule(
        "openai-api-key",
        "OpenAI API key (sk-, sk-proj-, sk-svcacct-, sk-admin-)",
        rx(
            after("sk-", B62 + "_-") + r"(?!ant-)(?:(?:proj|svcacct|admin)-)?"
            r"[A-Za-z0-9_-]{20,250}(?![A-Za-z0-9_-])"
        ),
        ("sk-",),
        validate=lambda v: mixed_token(3)(re.sub(r"^sk-(?:proj|svcacct|admin)-", "sk-", v)),
        max_len=265,
    ),
    assigned(
        "cohere-api-token",
        "Cohere API key, named (cohere, CO_API_KEY)",
        ("cohere", "co_api_key"),
        r"[a-z0-9]{40}",
        entropy=3.5,
    ),
    prefixed(
        "huggingface-token",
        "Hugging Face user (hf_) or organization (api_org_) token",
        ("hf_", "api_org_"),
        r"[A-Za-z]{34}",
        entropy=3.5,
    ),
    prefixed("perplexity-api-key", "Perplexity API key (pplx-)", "pplx-", r"[A-Za-z0-9]{48}"),
    assigned(
        "privateai-api-token",
        "Private AI API key, named",
        (r"private[_-]?ai",),
        r"[a-z0-9]{32}",
        keywords=("private",),
    ),
    prefixed("groq-api-key", "Groq API key (gsk_)", "gsk_", r"[A-Za-z0-9]{52}"),
    prefixed("replicate-api-token", "Replicate API token (r8_)", "r8_", r"[A-Za-z0-9]{37}"),
    prefixed("xai-api-key", "xAI API key (xai-)", "xai-", r"[A-Za-z0-9]{80}", end=B64URL),
    prefixed(
        "langsmith-api-key",
        "LangSmith personal (lsv2_pt_) or service (lsv2_sk_) key",
        ("lsv2_pt_", "lsv2_sk_"),
        r"[a-f0-9]{32}_[a-f0-9]{10}",
    ),
)
