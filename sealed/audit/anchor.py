"""The audit log's anchor: its head (record count, last hash) kept apart from
the log, where whoever can rewrite the file cannot (OpenBao). Dropping records
from the end of a log leaves a valid chain; only the anchor shows it.

Kept forward only (a writer with a stale head never moves it back) and off the
hot path: a worker's anchor is written by a thread at most every `interval`
seconds after a batch, a short-lived CLI's at once."""

from __future__ import annotations

import threading
import time
from typing import Protocol

import structlog

log = structlog.get_logger("sealed.audit")


class AnchorStore(Protocol):
    def load(self) -> tuple[int, str, int] | None:
        """(records, last hash, version for check-and-set), or None."""
        ...

    def save(self, records: int, last_hash: str, version: int) -> bool:
        """Written only if the store is still at `version` (0: empty)."""
        ...


class KeptAnchor:
    def __init__(self, store: AnchorStore, interval: float = 0.5) -> None:
        self._store = store
        self._interval = interval
        self._pending: tuple[int, str] | None = None
        self._version: int | None = None  # the store's, after this process's last write
        self._lock = threading.Lock()
        self._wake = threading.Event()
        if interval > 0:
            threading.Thread(target=self._keep, name="audit-anchor", daemon=True).start()

    def advance(self, records: int, last_hash: str) -> None:
        with self._lock:
            if self._pending is None or records > self._pending[0]:
                self._pending = (records, last_hash)
        if self._interval > 0:
            self._wake.set()
        else:
            self.flush()

    def read(self) -> tuple[int, str] | None:
        found = self._store.load()
        return None if found is None else (found[0], found[1])

    def flush(self) -> None:
        with self._lock:
            head, self._pending = self._pending, None
        if head is None:
            return
        # The store still holds what this process wrote last (the usual case,
        # one writer): one write. Else it reads first, and never moves back.
        if self._version is not None and self._store.save(*head, self._version):
            self._version += 1
            return
        while True:
            current = self._store.load()
            version = current[2] if current else 0
            if current is not None and current[0] >= head[0]:
                self._version = version
                return  # someone anchored as far or further
            if self._store.save(*head, version):
                self._version = version + 1
                return

    def _keep(self) -> None:
        while True:
            self._wake.wait()
            time.sleep(self._interval)  # the batches of a burst: one write after it
            self._wake.clear()
            try:
                self.flush()
            except Exception as exc:  # the next batch tries again; say so meanwhile
                log.error("audit anchor not written", error=str(exc))
