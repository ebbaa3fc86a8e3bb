"""Training checkpoints: atomic directories of safetensors and JSON only (no pickle anywhere).

``<out_dir>/checkpoints/step-00001000/``:

- ``model.safetensors`` — the weights (``safetensors.torch.save_model``: tied tensors stored once);
- ``optimizer.safetensors`` + ``optimizer.json`` — the optimizer's per-parameter tensors, and its
  param groups and non-tensor state;
- ``trainer.json`` — step, world size, early-stopping state, and the job's own extra state;
- ``rank-<r>.json`` + ``rank-<r>.safetensors`` — each rank's RNG states (torch CPU/CUDA, the
  data-loading RNG, Python ``random``, NumPy's legacy global) and data position (epoch, batches).

Every rank writes its own files into one staging directory ``.step-00001000.partial``; rank 0 then
renames it into place (atomic on POSIX), so any ``step-*`` directory is complete, and a run killed
mid-write leaves only a ``.partial`` directory, which the next save removes. Ranks must share
the file system (one node, or a shared mount).
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load_model, save_file, save_model
from torch import nn

from kgnlu.errors import CheckpointError
from kgnlu.integrity import verify_file, write_checksums
from kgnlu.io import load_tensors, read_json, swap_into_place
from kgnlu.training import distributed as dist

STEP_DIR = re.compile(r"^step-(\d+)$")


def step_dir(root: Path, step: int) -> Path:
    return root / f"step-{step:08d}"


def list_checkpoints(root: Path) -> list[tuple[int, Path]]:
    """Complete checkpoints under ``root``, oldest first."""
    if not root.is_dir():
        return []
    found = [(int(m.group(1)), p) for p in root.iterdir() if (m := STEP_DIR.match(p.name)) and p.is_dir()]
    return sorted(found)


def latest_checkpoint(root: Path) -> Path | None:
    found = list_checkpoints(root)
    return found[-1][1] if found else None


# ---------------------------------------------------------------------- writing
def write_json(path: Path, data: Any) -> None:
    with open(path, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=1)
        f.flush()
        os.fsync(f.fileno())


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def save_checkpoint(target: Path, model: nn.Module, optimizer: torch.optim.Optimizer | None,
                    trainer_state: dict[str, Any], rank_state: tuple[dict[str, Any], dict[str, torch.Tensor]]) -> Path:
    """Write a checkpoint directory at ``target`` from every rank (collective: all ranks call it)."""
    staging = target.parent / f".{target.name}.partial"
    if dist.is_main():
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
    dist.barrier()
    r = dist.rank()
    info, tensors = rank_state
    write_json(staging / f"rank-{r}.json", info)
    save_file(tensors, staging / f"rank-{r}.safetensors")
    if dist.is_main():
        save_model(model, str(staging / "model.safetensors"))
        if optimizer is not None:
            opt_tensors, opt_info = flatten_optimizer(optimizer.state_dict())
            save_file(opt_tensors, staging / "optimizer.safetensors")
            write_json(staging / "optimizer.json", opt_info)
        write_json(staging / "trainer.json", trainer_state)
    dist.barrier()
    if dist.is_main():
        write_checksums(staging)  # every rank's files are in by now
        for path in staging.iterdir():
            _fsync(path)
        swap_into_place(staging, target)  # re-saving a step (e.g. "best") swaps the old one out
        _fsync(target.parent)
    dist.barrier()
    return target


def prune_checkpoints(root: Path, keep: int) -> None:
    """Delete all but the newest ``keep`` checkpoints, and stale partial directories (rank 0 only)."""
    if not dist.is_main():
        return
    found = list_checkpoints(root)
    for _, path in found[: max(0, len(found) - keep)]:
        shutil.rmtree(path, ignore_errors=True)
    for path in root.glob(".step-*.partial"):  # left by a run killed while saving
        shutil.rmtree(path, ignore_errors=True)


def flatten_optimizer(state_dict: dict[str, Any]) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Optimizer.state_dict() → (tensors for safetensors, the rest for JSON)."""
    tensors: dict[str, torch.Tensor] = {}
    scalars: dict[str, dict[str, Any]] = {}
    for index, entry in state_dict["state"].items():
        for name, value in entry.items():
            if isinstance(value, torch.Tensor):
                tensors[f"state.{index}.{name}"] = value.detach().cpu().contiguous()
            else:
                scalars.setdefault(str(index), {})[name] = value
    return tensors, {"param_groups": state_dict["param_groups"], "scalars": scalars}


def unflatten_optimizer(tensors: dict[str, torch.Tensor], info: dict[str, Any]) -> dict[str, Any]:
    state: dict[int, dict[str, Any]] = {}
    for key, value in tensors.items():
        _, index, name = key.split(".", 2)
        state.setdefault(int(index), {})[name] = value
    for index, entries in info.get("scalars", {}).items():
        state.setdefault(int(index), {}).update(entries)
    return {"state": state, "param_groups": info["param_groups"]}


# ---------------------------------------------------------------------- reading
FALLBACK_HINT = "Delete that checkpoint directory to fall back to the previous one"


def load_weights(folder: Path, model: nn.Module) -> None:
    verify_file(folder / "model.safetensors")  # load_model reads the file itself, past load_tensors
    try:
        missing, unexpected = load_model(model, str(folder / "model.safetensors"), strict=False)
    except (OSError, RuntimeError) as err:
        raise CheckpointError(f"cannot load {folder / 'model.safetensors'} into {type(model).__name__}: {err}") from None
    if missing or unexpected:
        raise CheckpointError(f"{folder} does not match {type(model).__name__}: missing {sorted(missing)[:5]}, "
                              f"unexpected {sorted(unexpected)[:5]}")


def load_optimizer(folder: Path, optimizer: torch.optim.Optimizer) -> None:
    info = read_json(folder / "optimizer.json", FALLBACK_HINT)
    state = unflatten_optimizer(load_tensors(folder / "optimizer.safetensors"), info)
    for saved, current in zip(state["param_groups"], optimizer.param_groups, strict=False):
        for key, value in current.items():  # JSON made tuples (betas) into lists
            if isinstance(value, tuple) and isinstance(saved.get(key), list):
                saved[key] = tuple(saved[key])
    try:
        optimizer.load_state_dict(state)
    except (ValueError, KeyError) as err:
        raise CheckpointError(f"{folder}: optimizer state does not match this optimizer: {err}") from None


def load_rank_state(folder: Path, rank: int) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
    path = folder / f"rank-{rank}.safetensors"
    if not path.is_file():
        raise CheckpointError(f"{folder} has no state for rank {rank}: it was written by fewer ranks; resume with "
                              "the same number of processes")
    return read_json(folder / f"rank-{rank}.json", FALLBACK_HINT), load_tensors(path)


# ---------------------------------------------------------------------- RNG
def capture_rng() -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
    """Global RNG states as (JSON-able, tensors)."""
    np_state = np.random.get_state()
    info = {"python": _to_lists(random.getstate()),
            "numpy": [np_state[0], np_state[1].tolist(), int(np_state[2]), int(np_state[3]), float(np_state[4])]}
    tensors = {"torch_cpu": torch.get_rng_state()}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        for index, state in enumerate(torch.cuda.get_rng_state_all()):
            tensors[f"torch_cuda_{index}"] = state
    return info, tensors


def restore_rng(info: dict[str, Any], tensors: dict[str, torch.Tensor]) -> None:
    version, internal, gauss = info["python"]
    random.setstate((version, tuple(internal), gauss))
    name, keys, pos, has_gauss, cached = info["numpy"]
    np.random.set_state((name, np.asarray(keys, dtype=np.uint32), pos, has_gauss, cached))
    torch.set_rng_state(tensors["torch_cpu"])
    cuda_keys = sorted((k for k in tensors if k.startswith("torch_cuda_")), key=lambda k: int(k.rsplit("_", 1)[1]))
    cuda = [tensors[k] for k in cuda_keys]
    if cuda and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(cuda[: torch.cuda.device_count()])


def _to_lists(value: Any) -> Any:
    return [_to_lists(v) for v in value] if isinstance(value, tuple | list) else value
