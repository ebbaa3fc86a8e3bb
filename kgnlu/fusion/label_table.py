"""Entity tables that carry each entity's name: graph embeddings ⊕ the mean word embedding of its label.

    table = label_embeddings(graph.entity_labels(), tokenizer, encoder.get_input_embeddings().weight)
    joined = torch.cat([kge_table, table], dim=1)          # (E, D_kge + H)
    save_entity_table(joined, GRAPH / "embeddings" / "fusion-rotate-label", source={...})

Why: a KGE row says where an entity sits in the graph, not what it is called. A fused encoder that
must *write* an entity (a masked name, a cloze answer) then has to learn, entity by entity, which
wordpieces a graph vector stands for. Appending the mean of the label's wordpiece embeddings — the
encoder's own input embeddings, which its tied MLM decoder scores against — gives that mapping for
free, as KGLM copies an entity's aliases and KEPLER encodes entity descriptions. The KGE part still
decides *which* entity fits (KAR's candidate scores); the label part says how to spell it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import torch

from kgnlu.errors import ConfigError
from kgnlu.io import atomic_write


def label_embeddings(labels: Sequence[str], tokenizer, word_embeddings: torch.Tensor,
                     max_pieces: int = 16) -> torch.Tensor:
    """(E, H): per label, the mean of ``word_embeddings`` (V, H) over its first ``max_pieces``
    wordpieces (no special tokens); zeros for a label with none."""
    if word_embeddings.dim() != 2:
        raise ConfigError(f"word_embeddings must be (V, H), got {tuple(word_embeddings.shape)}")
    weight = word_embeddings.detach().float()
    out = torch.zeros(len(labels), weight.shape[1])
    for i, text in enumerate(labels):
        ids = tokenizer.encode(text, add_special_tokens=False)[:max_pieces]
        if ids:
            out[i] = weight[torch.tensor(ids)].mean(0)
    return out


def save_entity_table(table: torch.Tensor, folder: str | Path, source: Mapping[str, Any]) -> Path:
    """Write ``folder/embeddings.safetensors`` (tensor ``entity``) and ``folder/table.json`` (what it
    was built from), each atomically; a KGEncoder reads the folder as its ``entity_table``."""
    from safetensors.torch import save

    if table.dim() != 2:
        raise ConfigError(f"an entity table is (E, D), got {tuple(table.shape)}")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    with atomic_write(folder / "embeddings.safetensors", mode="wb") as f:
        f.write(save({"entity": table.contiguous().float()}))
    with atomic_write(folder / "table.json") as f:
        json.dump({"shape": list(table.shape), **source}, f, indent=2)
    return folder
