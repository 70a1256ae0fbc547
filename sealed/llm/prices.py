"""What a model turn costs, estimated from the usage its provider reports and
a price table: a trace fact directives can bound (`context.trace.cost_microusd`).

The table is the list prices below with the operator's price file (the
`model_prices_file` setting) merged over them. It comes first: a mission's own
`model.price` prices only a model the table does not, so a mission cannot
declare a known model cheap to slip under its cost limits. A model priced
nowhere costs nothing, and the worker's log says so once."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import structlog
from pydantic import Field

from sealed.models import ModelSpec, Price, TokenUsage
from sealed.spec_loader import load_document
from sealed.types import Strict

log = structlog.get_logger("sealed.llm")

# USD per million tokens.
LIST_PRICES: dict[str, Price] = {
    "gpt-4o": Price(input=2.50, output=10.00),
    "gpt-4o-mini": Price(input=0.15, output=0.60),
    "claude-sonnet-4-5": Price(input=3.00, output=15.00),
    "claude-haiku-4-5": Price(input=1.00, output=5.00),
}
_UNPRICED: set[str] = set()


class PriceFile(Strict):
    """The operator's price file (YAML or JSON): `prices: {<model name>:
    {input: <USD per million tokens>, output: ...}}`."""

    prices: dict[str, Price] = Field(default_factory=dict)


class PriceTable:
    def __init__(self, prices: Mapping[str, Price] | None = None) -> None:
        self._prices = {**LIST_PRICES, **(prices or {})}

    @classmethod
    def load(cls, path: Path | None) -> PriceTable:
        """The list prices, with the file's merged over them (a SpecError names
        what is wrong with it)."""
        if path is None:
            return cls()
        return cls(load_document(PriceFile, path, "price file").prices)

    def price_of(self, model: ModelSpec) -> Price | None:
        return self._prices.get(model.name) or model.price

    def cost_microusd(self, model: ModelSpec, usage: TokenUsage | None) -> int:
        if usage is None:
            return 0
        price = self.price_of(model)
        if price is None:
            if model.name not in _UNPRICED:
                _UNPRICED.add(model.name)
                log.warning("no price for model: its cost counts as 0", model=model.name)
            return 0
        # USD per million tokens is exactly micro-USD per token.
        return round(usage.input_tokens * price.input + usage.output_tokens * price.output)
