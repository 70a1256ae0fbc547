"""The audit log: chain integrity, tamper detection, concurrent writers, read-back, CLI."""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import stat
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from typer.testing import CliRunner

from sealed.audit import AUDIT_KINDS, GENESIS, AuditError, AuditEvent, AuditLog
from sealed.audit.anchor import KeptAnchor
from sealed.cli.audit import app as audit_app


def _event(i: int, mission: str = "m-1", **kw: object) -> AuditEvent:
    fields: dict[str, object] = {
        "kind": "credential.issued",
        "mission_id": mission,
        "profile": "triage",
        "tool": "tickets.create",
        "secret": "tickets/api-token",
        "lease_id": f"lease-{i}",
        "details": {"i": i, "ttl_s": 30.5, "renewable": True, "rule": None},
    }
    fields.update(kw)
    return AuditEvent.model_validate(fields)


def _filled(path: Path, n: int = 5) -> AuditLog:
    log = AuditLog(path)
    for i in range(n):
        log.record(_event(i, mission=f"m-{i % 2}"))
    return log


def _lines(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines(keepends=True)


def _canon(d: dict[str, object]) -> bytes:
    return json.dumps(d, sort_keys=True, separators=(",", ":")).encode()


def test_chain_of_records_verifies(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "dir" / "audit.log"
    log = _filled(path, 5)
    report = log.verify()
    assert report.ok and report.records == 5 and report.first_bad_line is None

    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    raw = [json.loads(line) for line in _lines(path)]
    assert [r["seq"] for r in raw] == [1, 2, 3, 4, 5]
    assert raw[0]["prev"] == GENESIS
    for before, line in zip(_lines(path), raw[1:], strict=False):
        assert line["prev"] == hashlib.sha256(before.rstrip(b"\n")).hexdigest()
    for r in raw:
        body = {k: v for k, v in r.items() if k != "hash"}
        assert r["hash"] == hashlib.sha256(_canon(body)).hexdigest()
        ts = datetime.fromisoformat(r["ts"])
        assert ts.utcoffset() == timedelta(0)
    assert report.last_hash == raw[-1]["hash"]


def test_record_returns_what_was_written(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "audit.log")
    rec = log.record(_event(7))
    assert rec.seq == 1 and rec.lease_id == "lease-7" and rec.details["i"] == 7
    assert log.events() == [rec]
    assert (tmp_path / "audit.log").read_text() == rec.to_line() + "\n"


def test_missing_file_is_ok_and_empty(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "nope.log")
    assert log.verify().model_dump() == {
        "ok": True,
        "records": 0,
        "first_bad_line": None,
        "problem": None,
        "last_hash": None,
    }
    assert log.events() == []


def test_edited_field_is_caught(tmp_path: Path) -> None:
    path = tmp_path / "audit.log"
    log = _filled(path)
    lines = _lines(path)
    lines[2] = lines[2].replace(b'"outcome":"ok"', b'"outcome":"refused"')
    path.write_bytes(b"".join(lines))
    report = log.verify()
    assert not report.ok and report.first_bad_line == 3 and "hash" in (report.problem or "")
    assert report.records == 2


def test_deleted_line_is_caught(tmp_path: Path) -> None:
    path = tmp_path / "audit.log"
    log = _filled(path)
    lines = _lines(path)
    del lines[1]
    path.write_bytes(b"".join(lines))
    report = log.verify()
    assert not report.ok and report.first_bad_line == 2 and "seq" in (report.problem or "")


def test_swapped_lines_are_caught(tmp_path: Path) -> None:
    path = tmp_path / "audit.log"
    log = _filled(path)
    lines = _lines(path)
    lines[2], lines[3] = lines[3], lines[2]
    path.write_bytes(b"".join(lines))
    report = log.verify()
    assert not report.ok and report.first_bad_line == 3


def test_forged_line_with_own_hash_but_wrong_prev_is_caught(tmp_path: Path) -> None:
    path = tmp_path / "audit.log"
    log = _filled(path)
    lines = _lines(path)
    forged = json.loads(lines[2])
    forged.update(kind="approval.decided", outcome="ok", actor="mallory", prev="f" * 64)
    del forged["hash"]
    forged["hash"] = hashlib.sha256(_canon(forged)).hexdigest()
    lines.insert(2, _canon(forged) + b"\n")
    path.write_bytes(b"".join(lines))
    report = log.verify()
    assert not report.ok and report.first_bad_line == 3 and "prev" in (report.problem or "")


def test_forged_line_with_right_prev_breaks_the_next_line(tmp_path: Path) -> None:
    path = tmp_path / "audit.log"
    log = _filled(path)
    lines = _lines(path)
    forged = json.loads(lines[2])
    forged.update(actor="mallory", prev=hashlib.sha256(lines[1].rstrip(b"\n")).hexdigest())
    del forged["hash"]
    forged["hash"] = hashlib.sha256(_canon(forged)).hexdigest()
    lines.insert(2, _canon(forged) + b"\n")
    path.write_bytes(b"".join(lines))
    report = log.verify()
    assert not report.ok and report.first_bad_line == 4


def test_truncation_at_the_end_needs_an_external_anchor(tmp_path: Path) -> None:
    path = tmp_path / "audit.log"
    log = _filled(path)
    anchored = log.verify()
    assert anchored.last_hash is not None
    anchor = (anchored.records, anchored.last_hash)
    path.write_bytes(b"".join(_lines(path)[:-1]))

    # A shorter chain is still a valid chain: nothing inside the file can tell.
    shorter = log.verify()
    assert shorter.ok and shorter.records == 4
    # Only the anchor kept elsewhere reveals it, and a rewritten tail too.
    truncated = log.verify(anchor=anchor)
    assert not truncated.ok and truncated.first_bad_line == 5
    assert "truncated" in (truncated.problem or "")
    log.record(_event(99))
    rewritten = log.verify(anchor=anchor)
    assert not rewritten.ok and rewritten.first_bad_line == 5
    assert "anchor" in (rewritten.problem or "")


def test_partial_last_line_fails_verify_and_blocks_appends(tmp_path: Path) -> None:
    path = tmp_path / "audit.log"
    log = _filled(path, 3)
    with path.open("ab") as f:
        f.write(b'{"seq":4,')
    report = log.verify()
    assert not report.ok and report.first_bad_line == 4 and report.records == 3
    with pytest.raises(AuditError):
        log.record(_event(4))


def _append_many(path: str, worker: int, n: int) -> None:
    log = AuditLog(Path(path))
    for i in range(n):
        log.record(_event(i, mission=f"w-{worker}"))


def test_concurrent_appends_from_processes_keep_one_chain(tmp_path: Path) -> None:
    path = tmp_path / "audit.log"
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_append_many, args=(str(path), w, 50)) for w in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=120)
        assert p.exitcode == 0
    log = AuditLog(path)
    report = log.verify()
    assert report.ok and report.records == 200, report
    for w in range(4):
        assert [r.lease_id for r in log.events(f"w-{w}")] == [f"lease-{i}" for i in range(50)]


def test_events_filters_by_mission(tmp_path: Path) -> None:
    log = _filled(tmp_path / "audit.log", 5)
    assert [r.seq for r in log.events("m-0")] == [1, 3, 5]
    assert [r.seq for r in log.events("m-1")] == [2, 4]
    assert log.events("other") == []
    assert len(log.events()) == 5


@pytest.mark.parametrize(
    "fields",
    [
        {"kind": "credential.used", "value": "hunter2"},
        {"kind": "credential.leaked"},
        {"kind": "redaction", "details": {"raw": ["a", "b"]}},
        {"kind": "redaction", "details": {"nested": {"a": 1}}},
        {"kind": "redaction", "details": {"ratio": float("nan")}},
    ],
)
def test_extra_fields_unknown_kinds_and_non_scalar_details_are_rejected(
    fields: dict[str, object],
) -> None:
    with pytest.raises(ValidationError):
        AuditEvent.model_validate(fields)


def test_events_are_frozen() -> None:
    with pytest.raises(ValidationError):
        _event(1).secret = "other"  # type: ignore[misc]


def test_forbid_values_names_lines_not_values(tmp_path: Path) -> None:
    log = _filled(tmp_path / "audit.log", 3)
    log.forbid_values(["s3cr3t-token", ""])
    log.record(_event(3, reason='backend said: bad token "s3cr3t\\x"'))
    with pytest.raises(ValueError, match=r"lines \[4\]") as info:
        log.forbid_values(['s3cr3t\\x"'])  # found in its JSON-escaped form
    assert "s3cr3t" not in str(info.value)


runner = CliRunner()


def test_cli_verify_ok_and_tampered(tmp_path: Path) -> None:
    path = tmp_path / "audit.log"
    log = _filled(path, 4)
    result = runner.invoke(audit_app, ["verify", "--no-key", "--file", str(path)])
    assert result.exit_code == 0, result.output
    assert "audit log OK: 4 records" in result.output
    anchor = f"4:{log.verify().last_hash}"
    assert anchor in result.output

    lines = _lines(path)
    lines[1] = lines[1].replace(b"lease-1", b"lease-X")
    path.write_bytes(b"".join(lines))
    result = runner.invoke(audit_app, ["verify", "--no-key", "--file", str(path)])
    assert result.exit_code == 1
    assert "line 2" in result.output and "hash" in result.output

    path.write_bytes(b"".join(_lines(path)[:1]))
    result = runner.invoke(
        audit_app, ["verify", "--no-key", "--file", str(path), "--anchor", anchor]
    )
    assert result.exit_code == 1 and "truncated" in result.output


def test_cli_show_mission_lines_and_json(tmp_path: Path) -> None:
    path = tmp_path / "audit.log"
    log = _filled(path, 4)
    log.record(
        _event(
            9,
            mission="m-1",
            kind="credential.refused",
            outcome="refused",
            reason="profile revoked",
            lease_id=None,
        )
    )
    result = runner.invoke(audit_app, ["show", "m-1", "--file", str(path)])
    assert result.exit_code == 0, result.output
    out = result.output.splitlines()
    assert len(out) == 3
    assert out[0].split("  ")[1:] == [
        "credential.issued",
        "tickets.create",
        "tickets/api-token",
        "lease-1",
        "ok",
        "-",
    ]
    assert out[2].split("  ")[1:] == [
        "credential.refused",
        "tickets.create",
        "tickets/api-token",
        "-",
        "refused",
        "profile revoked",
    ]

    result = runner.invoke(audit_app, ["show", "m-1", "--file", str(path), "--json"])
    assert result.exit_code == 0
    raw = [line.rstrip(b"\n").decode() for line in _lines(path)]
    assert result.output.splitlines() == [raw[1], raw[3], raw[4]]


def test_cli_defaults_to_the_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SEALED_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SEALED_CONFIG", str(tmp_path / "absent.toml"))
    _filled(tmp_path / "data" / "audit.log", 2)
    result = runner.invoke(audit_app, ["verify", "--no-key"])
    assert result.exit_code == 0 and "OK: 2 records" in result.output


_text = st.none() | st.text(max_size=12)
_scalar = (
    st.none()
    | st.booleans()
    | st.integers(-(2**53), 2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8)
)
_events = st.builds(
    AuditEvent,
    kind=st.sampled_from(AUDIT_KINDS),
    mission_id=_text,
    profile=_text,
    tool=_text,
    secret=_text,
    lease_id=_text,
    outcome=st.sampled_from(["ok", "refused", "error"]),
    reason=_text,
    actor=_text,
    details=st.dictionaries(st.text(max_size=6), _scalar, max_size=3),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(events=st.lists(_events, min_size=1, max_size=6), data=st.data())
def test_any_events_verify_and_any_altered_byte_is_caught(
    events: list[AuditEvent], data: st.DataObject
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "audit.log"
        log = AuditLog(path)
        written = [log.record(e) for e in events]
        report = log.verify()
        assert report.ok and report.records == len(events)
        assert log.events() == written
        assert [w.model_dump(exclude={"seq", "ts", "prev", "hash"}) for w in written] == [
            e.model_dump() for e in events
        ]

        lines = _lines(path)
        n = data.draw(st.integers(0, len(lines) - 1), label="line")
        line = bytearray(lines[n])  # the trailing newline is fair game too
        pos = data.draw(st.integers(0, len(line) - 1), label="byte")
        line[pos] = (line[pos] + data.draw(st.integers(1, 255), label="delta")) % 256
        lines[n] = bytes(line)
        path.write_bytes(b"".join(lines))
        tampered = log.verify()
        assert not tampered.ok
        assert tampered.first_bad_line == n + 1, (tampered, bytes(line))


# --- red team 12: a keyed chain, anchored elsewhere -------------------------------


class MemoryAnchor:
    """An AnchorStore in memory, as OpenBao's KV would keep it."""

    def __init__(self) -> None:
        self.value: tuple[int, str, int] | None = None
        self.writes = 0

    def load(self) -> tuple[int, str, int] | None:
        return self.value

    def save(self, records: int, last_hash: str, version: int) -> bool:
        if (self.value[2] if self.value else 0) != version:
            return False
        self.writes += 1
        self.value = (records, last_hash, version + 1)
        return True


KEY = b"k" * 32


def test_a_keyed_log_cannot_be_rewritten_without_its_key(tmp_path: Path) -> None:
    path = tmp_path / "audit.log"
    keyed = AuditLog(path, key=KEY)
    for n in range(3):
        keyed.record(_event(n))
    assert keyed.verify().ok
    # Whoever can write the file but not read the key rewrites it whole, coherently.
    forged = tmp_path / "forged.log"
    for n in range(3):
        AuditLog(forged).record(_event(n, reason="nothing to see"))
    assert AuditLog(forged).verify().ok  # a valid chain, to an unkeyed reader
    report = keyed.at(forged).verify()
    assert not report.ok and report.first_bad_line == 1 and "hash mismatch" in report.problem
    # And the right key on the wrong records is refused just the same.
    assert not AuditLog(path, key=b"x" * 32).verify().ok


def test_the_anchor_catches_truncation_and_never_moves_back(tmp_path: Path) -> None:
    store = MemoryAnchor()
    path = tmp_path / "audit.log"
    log = AuditLog(path, key=KEY, anchor=KeptAnchor(store, interval=0))
    for n in range(4):
        log.record(_event(n))
    assert store.value is not None and store.value[0] == 4
    assert log.verify().ok
    path.write_bytes(b"".join(_lines(path)[:2]))  # the last two records dropped
    report = log.verify()
    assert not report.ok and "truncated" in (report.problem or "")
    # A writer whose view is older never moves the anchor back.
    KeptAnchor(store, interval=0).advance(1, "0" * 64)
    assert store.value[0] == 4


def test_a_workers_anchor_is_written_off_the_hot_path(tmp_path: Path) -> None:
    store = MemoryAnchor()
    log = AuditLog(tmp_path / "audit.log", key=KEY, anchor=KeptAnchor(store, interval=0.2))
    for n in range(20):
        log.record(_event(n))
    assert store.writes <= 1  # a burst of batches: written once, after it
    deadline = time.monotonic() + 5
    while (store.value is None or store.value[0] < 20) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert store.value is not None and store.value[0] == 20 and store.writes <= 2
