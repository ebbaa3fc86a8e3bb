"""Embeddings beside the graph: ``GRAPH/embeddings/NAME/`` with ``embeddings.safetensors``
(``entity`` [E, D], ``relation`` [R, D], real views; complex models store [re | im]) and
``config.json`` (model, training config, metrics, graph name and counts). The folder is written
into a temp folder and renamed, so a reader sees the old embeddings or the new ones, never half.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors.torch import save_file

from kgnlu.errors import CheckpointError, ConfigError
from kgnlu.integrity import write_checksums
from kgnlu.io import atomic_directory, atomic_write, load_tensors
from kgnlu.kg.derived import index_identity
from kgnlu.kge.models import KGEModel, ModelConfig, build_model

FORMAT_VERSION = 1
TENSORS = "embeddings.safetensors"
CONFIG = "config.json"


def embeddings_dir(graph_path: str | Path, name: str) -> Path:
    if not name or "/" in name or name.startswith("."):
        raise ConfigError(f"embedding name {name!r} must be a plain folder name")
    return Path(graph_path) / "embeddings" / name


@dataclass
class StoredEmbeddings:
    path: Path
    config: dict
    entity: torch.Tensor  # [E, D]
    relation: torch.Tensor  # [R, D]; [2R, D] with model.inverse_relations (rows R.. are r⁻¹)

    @property
    def model_name(self) -> str:
        return self.config["model"]["name"]

    def to_model(self) -> KGEModel:
        """The scoring model with the stored tables (for evaluation and link prediction)."""
        mc = ModelConfig(**self.config["model"])
        model = build_model(mc, self.entity.shape[0], self.relation.shape[0] // (2 if mc.inverse_relations else 1))
        with torch.no_grad():
            model.entities.weight.copy_(self.entity)
            model.relations.weight.copy_(self.relation)
        return model


def save_embeddings(model: KGEModel, graph_path: str | Path, name: str, info: dict,
                    force: bool = True) -> Path:
    """Write ``model``'s tables and ``info`` (training config, metrics, ...) to GRAPH/embeddings/NAME."""
    target = embeddings_dir(graph_path, name)
    if target.exists() and not force:
        raise ConfigError(f"{target} exists; pass force=True (--force) to replace it")
    with atomic_directory(target) as tmp:
        tables = {"entity": model.entity_matrix().float(), "relation": model.relation_matrix().float()}
        save_file({k: v.contiguous().cpu() for k, v in tables.items()}, tmp / TENSORS,
                  metadata={"format": "kgnlu-kge", "version": str(FORMAT_VERSION)})
        config = {"format_version": FORMAT_VERSION, "model": vars(model.config).copy(),
                  "num_entities": model.num_entities, "num_relations": model.num_relations,
                  "complex_valued": model.complex_valued, "graph_index": index_identity(graph_path), **info}
        with atomic_write(tmp / CONFIG) as f:
            json.dump(config, f, indent=2)
        write_checksums(tmp)
    return target


def list_embeddings(graph_path: str | Path) -> list[str]:
    folder = Path(graph_path) / "embeddings"
    return sorted(p.name for p in folder.iterdir() if (p / CONFIG).is_file()) if folder.is_dir() else []


def load_embeddings(graph_path: str | Path, name: str | None = None) -> StoredEmbeddings:
    """Embeddings NAME of a graph (``name=None``: the only ones there)."""
    if name is None:
        names = list_embeddings(graph_path)
        if len(names) != 1:
            raise CheckpointError(f"{graph_path} has {len(names)} embeddings ({', '.join(names) or 'none'}); "
                                  "name one with --name (train some with `kgnlu kge train`)")
        name = names[0]
    path = embeddings_dir(graph_path, name)
    if not (path / CONFIG).is_file() or not (path / TENSORS).is_file():
        raise CheckpointError(f"no embeddings at {path}; train them with `kgnlu kge train {graph_path} --name {name}`")
    try:
        config = json.loads((path / CONFIG).read_text(encoding="utf-8"))
        tensors = load_tensors(path / TENSORS)
    except (OSError, ValueError) as err:
        raise CheckpointError(f"{path} is unreadable ({err}); retrain with `kgnlu kge train`") from None
    if config.get("format_version") != FORMAT_VERSION:
        raise CheckpointError(f"{path} has format {config.get('format_version')}, this kgnlu reads {FORMAT_VERSION}")
    # embeddings saved before the identity was recorded cannot be checked; later ones must match
    recorded = config.get("graph_index")
    if recorded is not None and recorded != index_identity(graph_path):
        raise CheckpointError(f"{path} was trained on another version of {graph_path} (its entities or relations "
                              f"changed since); retrain with `kgnlu kge train {graph_path} --name {name}`")
    return StoredEmbeddings(path, config, tensors["entity"], tensors["relation"])
