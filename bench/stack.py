"""The embedded stack a benchmark runs against: fresh, on free ports, its
worker in the benchmark's own process, logging JSON lines into a file (the
cost stays in the measurement, the lines stay out of the table)."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import structlog

from sealed.config import Settings, get_settings
from sealed.devstack import DevStack, Ports, StackInfo
from sealed.logging import configure_logging


@contextlib.contextmanager
def bench_stack() -> Iterator[StackInfo]:
    configure_logging("json")
    with tempfile.TemporaryDirectory(prefix="sealed-bench-") as tmp:
        data_dir = Path(tmp)
        # DevStack.start runs its own event loop: start it before the bench's.
        with (
            DevStack(data_dir, Ports.free(), worker=False, say=lambda _: None) as info,
            (data_dir / "logs" / "worker.log").open("w") as log_file,
        ):
            structlog.configure(logger_factory=structlog.PrintLoggerFactory(log_file))
            yield info


def use_stack(info: StackInfo, **overrides: Any) -> Settings:
    """Settings for the stack, and this process's environment pointed at it
    (the tools read their settings from the environment)."""
    settings = info.settings(**overrides)
    os.environ.update({**info.env(), "SEALED_TOOL_MODULES": json.dumps(settings.tool_modules)})
    get_settings.cache_clear()
    return settings
