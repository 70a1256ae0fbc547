"""Approver keys (sealed.approvals.keys): the private key file is the
approver's alone (0600 from its first byte), reads back to the same key, a
bad file says which and why; public keys and fingerprints as registered."""

from __future__ import annotations

import base64
import hashlib
import os
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from sealed.approvals.keys import (
    PREFIX,
    ApproverKeyError,
    check_public,
    fingerprint,
    new_key,
    public_text,
    read_key,
    sign,
    verify,
    write_key,
)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_key_file_is_created_0600_whatever_the_umask(tmp_path: Path):
    old = os.umask(0)
    try:
        write_key(tmp_path / "alice.key", new_key())
    finally:
        os.umask(old)
    assert mode(tmp_path / "alice.key") == 0o600
    assert (tmp_path / "alice.key").read_text().startswith("-----BEGIN PRIVATE KEY-----")
    assert not list(tmp_path.glob(".*"))  # no temporary left behind


def test_a_stale_temporary_does_not_widen_the_key_file(tmp_path: Path):
    stale = tmp_path / ".alice.key.tmp"
    stale.write_text("left by a crash")
    stale.chmod(0o644)
    write_key(tmp_path / "alice.key", new_key())
    assert mode(tmp_path / "alice.key") == 0o600


def test_a_key_reads_back(tmp_path: Path):
    key = new_key()
    write_key(tmp_path / "alice.key", key)
    back = read_key(tmp_path / "alice.key")
    assert public_text(back) == public_text(key)
    assert verify(public_text(key), sign(back, b"data"), b"data")


def test_a_missing_key_file(tmp_path: Path):
    with pytest.raises(ApproverKeyError, match="no key file"):
        read_key(tmp_path / "nope.key")


def test_a_file_that_is_no_key(tmp_path: Path):
    path = tmp_path / "alice.key"
    path.write_text("hello")
    with pytest.raises(ApproverKeyError, match="is not a PEM private key"):
        read_key(path)
    path.write_text(public_text(new_key()))
    with pytest.raises(ApproverKeyError, match="is not a PEM private key"):
        read_key(path)


def test_a_key_of_another_kind(tmp_path: Path):
    path = tmp_path / "ec.key"
    path.write_bytes(
        ec.generate_private_key(ec.SECP256R1()).private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    with pytest.raises(ApproverKeyError, match="is not an Ed25519 key"):
        read_key(path)


def test_a_bad_key_error_never_shows_the_key(tmp_path: Path):
    path = tmp_path / "alice.key"
    pem = new_key().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    path.write_bytes(pem[:-40])  # cut short
    with pytest.raises(ApproverKeyError) as info:
        read_key(path)
    body = pem.decode().splitlines()[1]
    assert body[:20] not in str(info.value)


def test_a_passphrase_protected_key(tmp_path: Path):
    path = tmp_path / "alice.key"
    path.write_bytes(
        new_key().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"passphrase"),
        )
    )
    with pytest.raises(ApproverKeyError):
        read_key(path)


def test_a_directory_is_no_key_file(tmp_path: Path):
    with pytest.raises(ApproverKeyError):
        read_key(tmp_path)


def test_public_text():
    key = new_key()
    text = public_text(key)
    assert text.startswith(PREFIX)
    assert len(base64.b64decode(text[len(PREFIX) :], validate=True)) == 32
    assert public_text(key) == text and check_public(text) == text


@pytest.mark.parametrize(
    "text, message",
    [
        ("AAAA", "written 'ed25519:<base64>'"),
        ("ssh-ed25519 AAAA", "written 'ed25519:<base64>'"),
        ("ed25519:not base64!", "not an Ed25519 public key"),
        ("ed25519:" + base64.b64encode(b"short").decode(), "not an Ed25519 public key"),
    ],
)
def test_a_public_key_that_is_not_one(text, message):
    with pytest.raises(ApproverKeyError, match=message):
        check_public(text)


def test_verify_says_no_and_never_raises():
    key, other = new_key(), new_key()
    signature = sign(key, b"data")
    assert verify(public_text(key), signature, b"data")
    assert not verify(public_text(other), signature, b"data")
    assert not verify(public_text(key), signature, b"other data")
    for bad in ("", "!!", "AAAA", signature[:-4]):
        assert not verify(public_text(key), bad, b"data")
    assert not verify("ed25519:AAAA", signature, b"data")
    assert not verify("nonsense", signature, b"data")


def test_fingerprint_is_stable():
    text = public_text(new_key())
    assert fingerprint(text) == fingerprint(text) == hashlib.sha256(text.encode()).hexdigest()[:16]
    assert len(fingerprint(text)) == 16 and int(fingerprint(text), 16) >= 0
    assert fingerprint(public_text(new_key())) != fingerprint(text)
    # a known value: the fingerprint is a published function of the public text
    fixed = "ed25519:" + base64.b64encode(bytes(range(32))).decode()
    assert fingerprint(fixed) == hashlib.sha256(fixed.encode()).hexdigest()[:16]
