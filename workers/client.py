"""The Temporal client every Sealed process uses: same converter everywhere,
so workers, the CLI and tests read each other's payloads."""

from __future__ import annotations

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from sealed.config import Settings


async def connect_to(address: str, namespace: str = "default") -> Client:
    return await Client.connect(
        address, namespace=namespace, data_converter=pydantic_data_converter
    )


async def connect(settings: Settings) -> Client:
    return await connect_to(settings.temporal_address, settings.temporal_namespace)
