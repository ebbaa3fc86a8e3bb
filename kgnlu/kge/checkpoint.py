"""Exact-resume checkpoints for KGE training: tensors in safetensors, everything else in JSON.

``checkpoint.safetensors`` holds the model (``model.*``), the best model so far (``best.*``),
the optimiser state (``optim.<param index>.<key>``) and the random generators' states
(``rng.<name>``, uint8); ``checkpoint.json`` the epoch, the early-stopping counters, the metric
history and the optimiser's param groups. Both are written atomically (temp file + rename), the
tensors first, so a crash never leaves a JSON that points at missing tensors.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from kgnlu.errors import CheckpointError
from kgnlu.io import atomic_write

TENSORS = "checkpoint.safetensors"
META = "checkpoint.json"


def save_tensors(tensors: dict[str, torch.Tensor], path: Path, metadata: dict[str, str] | None = None) -> None:
    """safetensors ``save_file`` through a temp file and an atomic rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        save_file({k: v.detach().contiguous().cpu() for k, v in tensors.items()}, tmp, metadata=metadata)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save_checkpoint(folder: Path, model: torch.nn.Module, optimizer: torch.optim.Optimizer,
                    generators: dict[str, torch.Generator], state: dict,
                    best: dict[str, torch.Tensor] | None) -> None:
    tensors = {f"model.{k}": v for k, v in model.state_dict().items()}
    if best is not None:
        tensors.update({f"best.{k}": v for k, v in best.items()})
    opt = optimizer.state_dict()
    for index, param_state in opt["state"].items():
        for key, value in param_state.items():
            tensors[f"optim.{index}.{key}"] = value if torch.is_tensor(value) else torch.tensor(value)
    for name, gen in generators.items():
        tensors[f"rng.{name}"] = gen.get_state()
    save_tensors(tensors, folder / TENSORS)
    with atomic_write(folder / META) as f:
        json.dump({**state, "param_groups": opt["param_groups"]}, f)


def has_checkpoint(folder: Path) -> bool:
    return (folder / META).is_file() and (folder / TENSORS).is_file()


def load_checkpoint(folder: Path, model: torch.nn.Module, optimizer: torch.optim.Optimizer,
                    generators: dict[str, torch.Generator]) -> tuple[dict, dict[str, torch.Tensor] | None]:
    """Restore model, optimiser and generators in place; returns (state, best tensors or None)."""
    if not has_checkpoint(folder):
        raise CheckpointError(f"no checkpoint in {folder}; train without --resume to start fresh")
    try:
        state = json.loads((folder / META).read_text(encoding="utf-8"))
        tensors = load_file(folder / TENSORS)
    except (OSError, ValueError) as err:
        raise CheckpointError(f"{folder} holds an unreadable checkpoint ({err}); delete it and retrain") from None
    model_state = {k[6:]: v for k, v in tensors.items() if k.startswith("model.")}
    try:
        model.load_state_dict(model_state)
    except RuntimeError as err:
        raise CheckpointError(f"the checkpoint in {folder} does not match this model: {err}") from None
    best = {k[5:]: v for k, v in tensors.items() if k.startswith("best.")} or None
    optim_state: dict[int, dict] = {}
    for key, value in tensors.items():
        if key.startswith("optim."):
            _, index, name = key.split(".", 2)
            optim_state.setdefault(int(index), {})[name] = value
    optimizer.load_state_dict({"state": optim_state, "param_groups": state.pop("param_groups")})
    for name, gen in generators.items():
        gen.set_state(tensors[f"rng.{name}"])
    return state, best
