"""What a model turn costs, estimated from the usage its provider reports and
list prices: a trace fact directives can bound (`context.trace.cost_microusd`).
A mission's `model.price` (USD per million input and output tokens) comes
first; a model priced nowhere costs nothing, and the worker's log says so
once."""

from __future__ import annotations

import structlog

from sealed.models import ModelSpec, TokenUsage

log = structlog.get_logger("sealed.llm")

# USD per million tokens, (input, output).
LIST_PRICES: dict[str, tuple[float, float]] = {
    "gpt-4o": (2.50, 10.00),
    "gpt-4o-mini": (0.15, 0.60),
    "claude-sonnet-4-5": (3.00, 15.00),
    "claude-haiku-4-5": (1.00, 5.00),
}
_UNPRICED: set[str] = set()


def price_of(model: ModelSpec) -> tuple[float, float] | None:
    if model.price is not None:
        return model.price.input, model.price.output
    return LIST_PRICES.get(model.name)


def cost_microusd(model: ModelSpec, usage: TokenUsage | None) -> int:
    if usage is None:
        return 0
    price = price_of(model)
    if price is None:
        if model.name not in _UNPRICED:
            _UNPRICED.add(model.name)
            log.warning("no price for model: its cost counts as 0", model=model.name)
        return 0
    # USD per million tokens is exactly micro-USD per token.
    return round(usage.input_tokens * price[0] + usage.output_tokens * price[1])
