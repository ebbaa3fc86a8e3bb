"""The one file hasher and the one JSON reader (kgnlu.integrity.file_sha256, kgnlu.io.read_json)."""

from __future__ import annotations

import hashlib

import pytest

from kgnlu.errors import CheckpointError
from kgnlu.integrity import file_sha256, source_checksum
from kgnlu.io import read_json


def test_file_sha256_matches_hashlib(tmp_path):
    a, b = tmp_path / "a.bin", tmp_path / "b.bin"
    a.write_bytes(b"x" * ((1 << 20) + 7))  # spans two 1 MiB blocks
    b.write_bytes(b"second file")
    assert file_sha256(a) == hashlib.sha256(a.read_bytes()).hexdigest()
    assert file_sha256(str(a)) == file_sha256(a)
    assert file_sha256([a, b]) == hashlib.sha256(a.read_bytes() + b.read_bytes()).hexdigest()
    assert source_checksum([a, b]) == "sha256:" + file_sha256([a, b])


def test_read_json_names_the_file_and_the_hint(tmp_path):
    good = tmp_path / "good.json"
    good.write_text('{"a": [1, 2]}', encoding="utf-8")
    assert read_json(good) == {"a": [1, 2]}
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(CheckpointError, match=r"bad\.json.*Delete it"):
        read_json(bad, "Delete it")
    with pytest.raises(CheckpointError, match="missing.json"):
        read_json(tmp_path / "missing.json")
