"""QAModel: the trainable parts of KGQA (relation-path scorer with its typing and topic heads, and
the subgraph GNN) plus what they index into (the path vocabulary, relation and kind names)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from kgnlu.qa.config import QAConfig
from kgnlu.qa.gnn import SubgraphGNN
from kgnlu.qa.paths import MAX_HOPS, RelationPath
from kgnlu.qa.relation_scorer import RelationPathScorer, ScorerEnsemble


def relation_texts(kg) -> list[str]:
    """Names to embed for each step symbol: "capital" forwards, "inverse of capital" backwards."""
    out = []
    for r in range(kg.num_relations):
        label = kg.relation_label(r)
        out += [label, f"inverse of {label}"]
    return out


def all_one_hop_paths(kg) -> list[RelationPath]:
    """Every relation present in the graph, both ways: always candidates, even if unseen in training."""
    present = np.unique(np.asarray(kg.triples[:, 1])).tolist()
    return [RelationPath(((int(r), f),)) for r in present for f in (True, False)]


def path_prototypes(encode, kg, paths: Sequence[RelationPath], limit: int) -> tuple[torch.Tensor, list[np.ndarray]]:
    """((P, Hq) unit rows, per-path description embeddings [n_p, Hq]): each path's descriptions
    (:func:`~kgnlu.qa.path_text.describe_path`) embedded by ``encode`` (texts → float32 unit rows)
    and averaged into the zero-shot path expert's prototype."""
    from kgnlu.qa.path_text import describe_path

    descriptions = [describe_path(kg, p, limit=limit) for p in paths]
    flat = encode([d for ds in descriptions for d in ds])
    chunks = np.split(flat, np.cumsum([len(ds) for ds in descriptions])[:-1])
    means = np.stack([chunk.mean(0) for chunk in chunks])
    means /= np.maximum(np.linalg.norm(means, axis=1, keepdims=True), 1e-12)
    return torch.from_numpy(means.astype(np.float32)), chunks


class QAModel(nn.Module):
    def __init__(self, config: QAConfig, paths: Sequence[RelationPath], relation_ids: Sequence[str],
                 kinds: Sequence[str], relation_text: torch.Tensor, path_text: torch.Tensor | None = None):
        """``relation_text`` float (2R, Hq): the encoder's embeddings of :func:`relation_texts`;
        ``path_text`` float (P, Hq): each path's description prototype (:func:`path_prototypes`),
        None for no zero-shot path expert."""
        super().__init__()
        self.config = config
        self.paths = list(paths)
        self.relation_ids, self.kinds = list(relation_ids), list(kinds)
        num_symbols = 2 * len(relation_ids)
        table = torch.full((len(self.paths), MAX_HOPS), num_symbols, dtype=torch.long)
        for i, path in enumerate(self.paths):
            syms = path.symbols()
            table[i, : len(syms)] = torch.tensor(syms)
        dim = relation_text.shape[1]
        self.question_dim = dim
        self.scorer = ScorerEnsemble([RelationPathScorer(dim, num_symbols, table, relation_text, len(kinds), config)
                                      for _ in range(config.ensemble)], path_text, config.path_text_scale)
        self.gnn = SubgraphGNN(dim, num_symbols, config.gnn_hidden, config.gnn_layers)
        self.path_index = {p: i for i, p in enumerate(self.paths)}

    def metadata(self) -> dict:
        return {"paths": [p.symbols() for p in self.paths], "relation_ids": self.relation_ids,
                "kinds": self.kinds, "question_dim": self.question_dim,
                "step_counts": self.scorer.step_prior.to_dict()}
