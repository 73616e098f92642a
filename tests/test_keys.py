"""The local master key: created once, atomically, private, and bound to its purpose."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidTag

from centrum.services.keys import MasterKey


def test_processes_racing_to_create_the_key_all_read_one_complete_key(tmp_path: Path) -> None:
    """Eight forked processes starting together (serve --workers) end with one 32-byte key."""
    path = tmp_path / "master.key"
    children = []
    for _ in range(8):
        pid = os.fork()
        if pid == 0:
            try:
                MasterKey.load_or_create(path)
            except BaseException:
                os._exit(1)
            os._exit(0)
        children.append(pid)
    codes = [os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) for pid in children]
    assert codes == [0] * 8
    assert len(path.read_bytes()) == 32 and (path.stat().st_mode & 0o077) == 0
    assert [p.name for p in tmp_path.iterdir()] == ["master.key"]


def test_ciphertexts_are_bound_to_their_purpose(tmp_path: Path) -> None:
    """A blob encrypted for one purpose does not decrypt for another."""
    key = MasterKey.load_or_create(tmp_path / "master.key")
    blob = key.encrypt(b"signing key", b"auth.signing-key:k1")
    assert key.decrypt(blob, b"auth.signing-key:k1") == b"signing key"
    with pytest.raises(InvalidTag):
        key.decrypt(blob, b"auth.signing-key:k2")


def test_a_key_readable_by_others_is_refused(tmp_path: Path) -> None:
    """A master key file with group or world permissions stops the server from starting."""
    path = tmp_path / "master.key"
    MasterKey.load_or_create(path)
    path.chmod(0o644)
    with pytest.raises(PermissionError):
        MasterKey.load_or_create(path)
