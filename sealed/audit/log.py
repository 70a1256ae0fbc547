"""The observatory's audit log: an append-only file of hash-chained JSON lines
(sealed.audit.events says what a line may hold). Each line commits to its
predecessor (`prev` is the sha256 of the previous line's bytes) and to itself
(`hash` over its canonical JSON), so an edit, deletion, insertion or reordering
anywhere before the last line breaks the chain at that line.

With a key (held in OpenBao; the workers' and operators' logs have one) `hash`
is an HMAC: whoever can write the file but not read the key cannot rewrite it,
even whole. Dropping lines from the END still leaves a shorter valid chain:
only an anchor kept elsewhere (the record count and last hash, which an
`Anchor` keeps in OpenBao after each batch) can reveal that."""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import json
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Protocol

import structlog
from pydantic import ValidationError
from structlog.typing import EventDict, WrappedLogger

from sealed.audit.events import GENESIS, AuditEvent, AuditRecord, VerifyReport, canonical


class AuditError(RuntimeError):
    """The log cannot be appended to or read back (a torn or foreign last line)."""


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _seal_hash(key: bytes | None, body: bytes) -> str:
    return _sha256(body) if key is None else hmac.new(key, body, hashlib.sha256).hexdigest()


_Step = Callable[[WrappedLogger, str, EventDict], EventDict]


def _chain(seq: int, prev: str, key: bytes | None) -> tuple[_Step, ...]:
    """The processors before rendering: link to the previous line, stamp, seal."""

    def link(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
        event_dict["seq"] = seq
        event_dict["prev"] = prev
        return event_dict

    def seal(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
        event_dict["hash"] = _seal_hash(key, canonical(event_dict))
        return event_dict

    return (link, structlog.processors.TimeStamper(fmt="iso", utc=True, key="ts"), seal)


class Anchor(Protocol):
    """Where a log's head is kept apart from the log (sealed.audit.anchor)."""

    def advance(self, records: int, last_hash: str) -> None: ...

    def read(self) -> tuple[int, str] | None: ...


@contextmanager
def _locked(path: Path, flags: int, lock: int) -> Iterator[int]:
    fd = os.open(path, flags | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, lock)
        yield fd
    finally:
        os.close(fd)  # closing drops the flock


def _last_line(fd: int) -> bytes | None:
    """The last complete line, read backwards so appends stay O(1) in the log's size."""
    size = os.fstat(fd).st_size
    if size == 0:
        return None
    if os.pread(fd, 1, size - 1) != b"\n":
        # A crash mid-write or a foreign writer: appending would weld two lines.
        raise AuditError("audit log ends in a partial line; run `sealed audit verify`")
    end, buf = size - 1, b""
    while end > 0:
        start = max(0, end - 4096)
        buf = os.pread(fd, end - start, start) + buf
        end = start
        if b"\n" in buf:
            break
    return buf.rsplit(b"\n", 1)[-1]


class AuditLog:
    def __init__(
        self, path: Path, *, key: bytes | None = None, anchor: Anchor | None = None
    ) -> None:
        self.path = path
        self._key = key
        self._anchor = anchor

    def at(self, path: Path) -> AuditLog:
        """The same key and anchor, for a copy of the log kept elsewhere."""
        return AuditLog(path, key=self._key, anchor=self._anchor)

    def record(self, event: AuditEvent) -> AuditRecord:
        return self.record_many([event])[0]

    def record_many(self, events: Sequence[AuditEvent]) -> list[AuditRecord]:
        """Appends the events in order under one lock and one fsync: what a tool
        call's credentials went through costs the call one disk flush."""
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        flags = os.O_RDWR | os.O_APPEND | os.O_CREAT
        # The lock spans read-tail-then-append, so concurrent writers (workers, CLI)
        # cannot both claim the same seq.
        with _locked(self.path, flags, fcntl.LOCK_EX) as fd:
            if os.fstat(fd).st_mode & 0o777 != 0o600:
                os.fchmod(fd, 0o600)
            tail = _last_line(fd)
            seq, prev = 1, GENESIS
            if tail is not None:
                try:
                    seq = int(json.loads(tail)["seq"]) + 1
                except (ValueError, KeyError, TypeError) as exc:
                    raise AuditError("audit log's last line is not an audit record") from exc
                prev = _sha256(tail)
            lines = []
            for event in events:
                event_dict: EventDict = event.model_dump(mode="json")
                for step in _chain(seq, prev, self._key):
                    event_dict = step(None, "info", event_dict)
                line = canonical(event_dict) + b"\n"
                lines.append(line)
                seq, prev = seq + 1, _sha256(line[:-1])
            view = memoryview(b"".join(lines))
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        records = [AuditRecord.model_validate_json(line) for line in lines]
        if self._anchor is not None:
            self._anchor.advance(records[-1].seq, records[-1].hash)
        return records

    def _lines(self) -> bytes:
        try:
            with _locked(self.path, os.O_RDONLY, fcntl.LOCK_SH) as fd:
                size = os.fstat(fd).st_size
                return os.pread(fd, size, 0)
        except FileNotFoundError:
            return b""

    def verify(self, anchor: tuple[int, str] | None = None) -> VerifyReport:
        """Check every line (with the key, if this log has one) against the anchor:
        the one given (records, last_hash), else the log's own Anchor's."""
        if anchor is None and self._anchor is not None:
            anchor = self._anchor.read()
        data = self._lines()
        lines = data.split(b"\n")
        torn = lines.pop() != b""  # a complete file ends in "\n": the last piece is empty
        prev, last_hash = GENESIS, None

        def bad(n: int, problem: str) -> VerifyReport:
            return VerifyReport(
                ok=False, records=n - 1, first_bad_line=n, problem=problem, last_hash=last_hash
            )

        for n, line in enumerate(lines, start=1):
            try:
                raw = json.loads(line.decode("utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError):
                return bad(n, "not a JSON line")
            if not isinstance(raw, dict):
                return bad(n, "not a JSON object")
            if canonical(raw) != line:
                return bad(n, "not in canonical form")
            try:
                record = AuditRecord.model_validate(raw)
            except ValidationError as exc:
                return bad(n, f"not an audit record: {exc.error_count()} schema error(s)")
            body = {k: v for k, v in raw.items() if k != "hash"}
            if not hmac.compare_digest(_seal_hash(self._key, canonical(body)), record.hash):
                return bad(n, "hash mismatch: the line was altered (or sealed with no key)")
            if record.seq != n:
                return bad(n, f"seq {record.seq}, expected {n}: a line was removed or moved")
            if record.prev != prev:
                return bad(n, f"prev does not match line {n - 1}: a line was inserted or moved")
            if anchor is not None and n == anchor[0] and record.hash != anchor[1]:
                return bad(n, "does not match the anchor: the log was rewritten")
            prev, last_hash = _sha256(line), record.hash
        if torn:
            return bad(len(lines) + 1, "partial last line")
        if anchor is not None and len(lines) < anchor[0]:
            return bad(len(lines) + 1, f"truncated: {anchor[0]} records anchored")
        return VerifyReport(ok=True, records=len(lines), last_hash=last_hash)

    def events(self, mission_id: str | None = None) -> list[AuditRecord]:
        out = []
        for n, line in enumerate(self._lines().splitlines(), start=1):
            try:
                record = AuditRecord.model_validate_json(line)
            except ValidationError as exc:
                raise AuditError(f"audit log line {n} is not an audit record") from exc
            if mission_id is None or record.mission_id == mission_id:
                out.append(record)
        return out

    def forbid_values(self, values: Iterable[str]) -> None:
        """Raise ValueError naming the lines (not the value) where any value appears.

        A belt-and-braces check for tests: the model already has nowhere to put a value.
        """
        data = self._lines().splitlines()
        for value in filter(None, values):
            # A line holds JSON, so look for the value as JSON would escape it too.
            needles = {value.encode(), json.dumps(value)[1:-1].encode()}
            hits = [n for n, line in enumerate(data, 1) if any(x in line for x in needles)]
            if hits:
                raise ValueError(f"a forbidden value appears in audit lines {hits}")
