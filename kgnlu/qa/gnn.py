"""A small relation-aware GNN over the retrieved subgraph, with the question as a context node
(QA-GNN / GreaseLM style, CPU-sized): it re-scores the candidate answers the path walks reached.

Nodes: the subgraph's entities plus one context node per question, joined to the topic entities.
Node inputs are what retrieval already knows (:data:`NODE_FEATURES`); messages go both ways
along every edge, through the edge's relation symbol, gated by how well the relation fits the
question. The output is a logit per node, added to the path score of candidate answers.
"""

from __future__ import annotations

import torch
from torch import nn

# is_topic, is_candidate, path log-score, log PPR, type log-prob, depth / 3, link prob, is_context
NODE_FEATURES = 8


class SubgraphGNN(nn.Module):
    def __init__(self, question_dim: int, num_symbols: int, hidden: int = 32, layers: int = 2):
        """``num_symbols`` = 2R (each relation forwards and backwards); two more symbols join the
        context node to topics (context → topic, topic → context)."""
        super().__init__()
        self.context_symbols = (num_symbols, num_symbols + 1)
        self.inp = nn.Linear(NODE_FEATURES, hidden)
        self.q = nn.Linear(question_dim, hidden)
        self.symbol = nn.Embedding(num_symbols + 2, hidden)
        self.message = nn.ModuleList(nn.Linear(hidden, hidden) for _ in range(layers))
        self.update = nn.ModuleList(nn.Linear(hidden, hidden) for _ in range(layers))
        self.norm = nn.ModuleList(nn.LayerNorm(hidden) for _ in range(layers))
        self.out = nn.Linear(hidden, 1)
        nn.init.zeros_(self.out.weight)  # starts as "no correction": scores equal the path scores
        nn.init.zeros_(self.out.bias)

    def forward(self, question: torch.Tensor, features: torch.Tensor, edges: torch.Tensor,
                symbols: torch.Tensor, graph: torch.Tensor) -> torch.Tensor:
        """question (G, Hq) per graph; features (N, F) over the graphs' nodes (context nodes
        included, flagged in the last feature); edges (E, 2) long (source, target) node rows,
        both directions listed; symbols (E,) long; graph (N,) long: the graph of each node.
        Returns (N,) node logits."""
        q = self.q(question)  # (G, h)
        context = features[:, -1:] > 0.5  # (N, 1)
        h = torch.where(context, q[graph], self.inp(features))  # (N, h)
        src, dst = edges[:, 0], edges[:, 1]
        # how much the question wants each edge's relation: (E, 1)
        gate = torch.sigmoid((self.symbol(symbols) * q[graph[src]]).sum(-1, keepdim=True)
                             / h.shape[-1] ** 0.5)
        degree = torch.zeros(h.shape[0], 1, dtype=h.dtype).index_add_(
            0, dst, torch.ones(len(dst), 1, dtype=h.dtype)).clamp(min=1.0)
        for message, update, norm in zip(self.message, self.update, self.norm, strict=True):
            msg = gate * message(h)[src] * torch.sigmoid(self.symbol(symbols))  # (E, h)
            agg = torch.zeros_like(h).index_add_(0, dst, msg) / degree  # (N, h)
            h = norm(h + torch.nn.functional.gelu(agg + update(h)))
        return self.out(h).squeeze(-1)
