"""Directory replacement (kgnlu.dirswap, issue 19 item 7): the target never goes missing, a swap cut
between the fallback's two renames is recovered, writers of one target take turns, killed writers'
staging is cleared, and a pinned reader keeps its directory."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

from kgnlu import dirswap
from kgnlu.errors import TargetBusyError
from kgnlu.io import atomic_directory, swap_into_place

exchange_only = pytest.mark.skipif(dirswap._renameat2 is None, reason="renameat2 is Linux-only")


def folder(path: Path, text: str) -> Path:
    path.mkdir()
    (path / "data.txt").write_text(text)
    return path


@exchange_only
def test_the_target_names_a_complete_directory_after_every_rename(tmp_path, monkeypatch):
    """Every rename a swap makes is followed by a look at the target: the two-rename scheme fails
    here (the target is missing between its renames), the exchange never is."""
    target = folder(tmp_path / "t", "old")
    staging = folder(tmp_path / ".t.tmp-new", "new")
    seen = []
    real_replace = os.replace

    def watched(src, dst):
        real_replace(src, dst)
        seen.append((target / "data.txt").is_file())
    monkeypatch.setattr(os, "replace", watched)
    swap_into_place(staging, target)
    assert (target / "data.txt").read_text() == "new"
    assert all(seen)
    assert not staging.exists()  # the old directory, exchanged to the staging name, is deleted


def test_the_fallback_swaps_and_leaves_nothing_behind(tmp_path, monkeypatch):
    monkeypatch.setenv("KGNLU_NO_RENAME_EXCHANGE", "1")
    target = folder(tmp_path / "t", "old")
    with atomic_directory(target) as staging:
        (staging / "data.txt").write_text("new")
    assert (target / "data.txt").read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t"]


def cut_fallback_swap(tmp_path: Path) -> Path:
    """The state a kill between the fallback's renames leaves: no target, the old one aside."""
    target = folder(tmp_path / "t", "old")
    aside = tmp_path / ".t.old.k1ll3d"
    aside.mkdir()
    os.replace(target, aside / "old")
    folder(tmp_path / ".t.tmp-unfinished", "new, never swapped in")
    return target


def test_a_cut_fallback_swap_is_restored_by_the_next_write(tmp_path):
    target = cut_fallback_swap(tmp_path)
    assert dirswap.needs_recovery(target)
    with atomic_directory(target) as staging:
        assert (target / "data.txt").read_text() == "old"  # restored before the new write starts
        (staging / "data.txt").write_text("next")
    assert (target / "data.txt").read_text() == "next"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t"]


def test_a_cut_fallback_swap_is_restored_by_a_reader(tmp_path):
    target = cut_fallback_swap(tmp_path)
    assert dirswap.recover(target)
    assert (target / "data.txt").read_text() == "old"


def test_stale_staging_is_cleared_and_other_files_kept(tmp_path):
    target = folder(tmp_path / "t", "old")
    for name in (".t.tmp-dead1", ".t.old.dead2", ".t.ab12cd34"):
        folder(tmp_path / name, "left by kill -9")
    (tmp_path / ".t.json.x1.tmp").write_text("a file of another writer")
    folder(tmp_path / ".tt.tmp-other", "another target's staging")
    with atomic_directory(target) as staging:
        (staging / "data.txt").write_text("new")
    assert sorted(p.name for p in tmp_path.iterdir()) == [".t.json.x1.tmp", ".tt.tmp-other", "t"]


def test_a_second_writer_waits_then_gives_a_coded_error(tmp_path, monkeypatch):
    target = folder(tmp_path / "t", "old")
    monkeypatch.setenv("KGNLU_LOCK_TIMEOUT", "0.3")
    with dirswap.target_lock(target):
        started = time.monotonic()
        with pytest.raises(TargetBusyError, match=r"\[E024\].*being written by another process \(pid \d+\)"):
            with atomic_directory(target):
                pass
        assert time.monotonic() - started >= 0.3
    assert (target / "data.txt").read_text() == "old"
    assert not (tmp_path / ".t.lock").exists()  # released: the lock file goes with it


def test_two_writers_of_one_target_take_turns(tmp_path):
    target = tmp_path / "t"
    inside = []
    errors = []

    def write(tag: str) -> None:
        try:
            with atomic_directory(target) as staging:
                inside.append(f"+{tag}")
                time.sleep(0.2)
                (staging / "data.txt").write_text(tag)
                inside.append(f"-{tag}")
        except Exception as err:  # raw OSErrors were the bug: collect and fail below
            errors.append(err)
    threads = [threading.Thread(target=write, args=(t,)) for t in "ab"]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert inside in (["+a", "-a", "+b", "-b"], ["+b", "-b", "+a", "-a"])  # never interleaved
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t"]


@exchange_only
def test_a_pinned_directory_outlives_its_replacement(tmp_path):
    target = folder(tmp_path / "t", "old")
    pin = dirswap.DirectoryPin(target)
    with atomic_directory(target) as staging:
        (staging / "data.txt").write_text("new")
    assert not pin.current()
    assert (pin.root / "data.txt").read_text() == "old"  # still readable through the pin
    pin.close()
    with atomic_directory(target) as staging:  # unpinned now: the next write clears it
        (staging / "data.txt").write_text("newer")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t"]


def test_a_symlinked_target_is_replaced_without_touching_what_it_pointed_to(tmp_path):
    real = folder(tmp_path / "real", "kept")
    (tmp_path / "t").symlink_to(real)
    with atomic_directory(tmp_path / "t") as staging:
        (staging / "data.txt").write_text("new")
    assert not (tmp_path / "t").is_symlink() and (tmp_path / "t" / "data.txt").read_text() == "new"
    assert (real / "data.txt").read_text() == "kept"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["real", "t"]
