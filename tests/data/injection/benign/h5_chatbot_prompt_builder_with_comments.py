"""Builds the message list sent to the LLM for the support chatbot."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

# The system prompt is versioned so we can correlate quality metrics with
# prompt changes. Bump PROMPT_VERSION whenever SYSTEM_PROMPT is edited.
PROMPT_VERSION = "2024-05-14.2"

SYSTEM_PROMPT = (
    "You are the help assistant for Parcelly, a package tracking service. "
    "Answer questions about deliveries, returns and account settings. "
    "If you do not know the answer, offer to connect the user with a human agent."
)

# Keep the history short: long contexts increase latency and cost, and the
# token budget below leaves room for retrieved help-centre articles.
MAX_HISTORY_TURNS = 8
MAX_CONTEXT_TOKENS = 6000


@dataclass
class Turn:
    role: str  # "user" or "assistant"
    content: str


def build_messages(history: Iterable[Turn], user_message: str, articles: list[str]) -> list[dict]:
    """Return messages in the chat-completions format.

    Retrieved articles are wrapped in <article> tags and placed in a separate
    user message so the model can tell them apart from the user's question.
    """
    messages: list[dict] = [{"role": "system", "content": SYSTEM_PROMPT}]
    for turn in list(history)[-MAX_HISTORY_TURNS:]:
        messages.append({"role": turn.role, "content": turn.content})
    if articles:
        joined = "\n".join(f"<article>{a}</article>" for a in articles)
        messages.append({"role": "user", "content": f"Reference material:\n{joined}"})
    messages.append({"role": "user", "content": user_message})
    return messages
