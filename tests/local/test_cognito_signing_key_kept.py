"""The local AWS's own token signing key (local/cognito/signing_key.py) is kept in `make run`'s
state directory: made once, the same after a restart, readable by its owner only.

That moto signs with it and publishes only it: tests/local/test_cognito_signing_key.py.
"""
from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from local.run import state
from local.cognito import signing_key


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    """The state directory as `make run` chooses it (local/__main__.py): the Store's."""
    return state.Store(tmp_path / ".local-state").directory


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_key_is_made_once_and_is_the_same_after_a_restart(state_dir: Path) -> None:
    first = signing_key.kept_in(state_dir)
    again = signing_key.kept_in(state_dir)  # the next `make run`
    assert again.kid == first.kid
    assert again.private.private_numbers() == first.private.private_numbers()
    assert again.kid != signing_key.kept_in(state_dir.parent / "elsewhere").kid
    assert [p.name for p in state_dir.iterdir()] == [signing_key.FILE_NAME]  # no partial left


def test_the_key_is_a_2048_bit_rsa_key_named_by_its_thumbprint(state_dir: Path) -> None:
    key = signing_key.kept_in(state_dir)
    assert key.private.key_size == 2048
    assert key.kid == key.jwk.thumbprint() and key.kid != "dummy"


def test_the_key_file_is_readable_by_its_owner_only_whatever_the_umask(state_dir: Path) -> None:
    previous = os.umask(0)
    try:
        signing_key.kept_in(state_dir)
    finally:
        os.umask(previous)
    assert mode_of(state_dir / signing_key.FILE_NAME) == 0o600


def test_a_key_file_others_may_read_is_made_private_again_at_the_next_start(
        state_dir: Path) -> None:
    kid = signing_key.kept_in(state_dir).kid
    (state_dir / signing_key.FILE_NAME).chmod(0o644)
    assert signing_key.kept_in(state_dir).kid == kid
    assert mode_of(state_dir / signing_key.FILE_NAME) == 0o600


def test_a_damaged_key_file_is_set_aside_and_a_new_key_made(state_dir: Path) -> None:
    said: list[str] = []
    state_dir.mkdir(parents=True)
    (state_dir / signing_key.FILE_NAME).write_bytes(b"not a key")
    key = signing_key.kept_in(state_dir, say=said.append)
    assert signing_key.kept_in(state_dir).kid == key.kid  # the new key is the one kept
    (aside,) = state_dir.glob(f"{signing_key.FILE_NAME}.*.old")
    assert aside.read_bytes() == b"not a key"
    assert len(said) == 1 and "could not be read" in said[0] and aside.name in said[0]
