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


def all_one_hop_paths(kg, profile=None) -> list[RelationPath]:
    """Every relation present in the graph, both ways: always candidates, even if unseen in training;
    with ``profile`` (a GraphProfile) a step that another walks already (``hyponym^-1`` =
    ``hypernym``) is left out."""
    present = np.unique(np.asarray(kg.triples[:, 1])).tolist()
    return [RelationPath(((int(r), f),)) for r in present for f in (True, False)
            if profile is None or not profile.redundant(2 * int(r) + (0 if f else 1))]


class QAModel(nn.Module):
    def __init__(self, config: QAConfig, paths: Sequence[RelationPath], relation_ids: Sequence[str],
                 kinds: Sequence[str], relation_text: torch.Tensor, path_text: torch.Tensor | None = None,
                 bank=None):
        """``relation_text`` float (2R, Hq): the encoder's embeddings of :func:`relation_texts`;
        ``bank``: the paths' descriptions embedded (:class:`~kgnlu.qa.path_matching.DescriptionBank`,
        owner + whole), the zero-shot expert; ``path_text`` float (P, Hq), each path's mean
        description, is the expert of models saved before the bank; neither: no expert."""
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
                                      for _ in range(config.ensemble)], path_text, config.path_text_scale,
                                     bank, config.mlp_weight, config.hop_penalty)
        self.gnn = SubgraphGNN(dim, num_symbols, config.gnn_hidden, config.gnn_layers)
        self.path_index = {p: i for i, p in enumerate(self.paths)}
        self.rerank = None  # a RerankStage once trained (kgnlu.qa.reranker): not a submodule, saved apart

    def metadata(self) -> dict:
        return {"paths": [p.symbols() for p in self.paths], "relation_ids": self.relation_ids,
                "kinds": self.kinds, "question_dim": self.question_dim,
                "step_counts": self.scorer.step_prior.to_dict()}
