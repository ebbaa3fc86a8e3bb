"""Epoch-seeded batch streams for the Trainer (``set_epoch`` makes resume exact)."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch


class PathBatches:
    """Shuffled batches of question tensors, each joined by a random batch of topic-head examples."""

    def __init__(self, tensors: dict[str, torch.Tensor], topic: dict[str, torch.Tensor], batch_size: int,
                 seed: int = 0):
        self.tensors, self.topic, self.batch_size, self.seed = tensors, topic, batch_size, seed
        self.n = len(next(iter(tensors.values())))
        self.t = len(next(iter(topic.values()))) if topic else 0
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return -(-self.n // self.batch_size)

    def __iter__(self) -> Iterator[dict[str, torch.Tensor]]:
        g = torch.Generator().manual_seed(self.seed * 1_000_003 + self.epoch)
        for chunk in torch.randperm(self.n, generator=g).split(self.batch_size):
            batch = {k: v[chunk] for k, v in self.tensors.items()}
            if self.t:
                pick = torch.randint(self.t, (min(self.batch_size, self.t),), generator=g)
                batch.update({f"topic_{k}": v[pick] for k, v in self.topic.items()})
            yield batch


class GraphBatches:
    """Batches of retrieved subgraphs packed into one disjoint graph (node rows offset)."""

    def __init__(self, graphs: list[dict[str, np.ndarray]], batch_size: int = 32, seed: int = 0):
        self.graphs, self.batch_size, self.seed, self.epoch = graphs, batch_size, seed, 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return -(-len(self.graphs) // self.batch_size)

    def __iter__(self) -> Iterator[dict[str, torch.Tensor]]:
        g = torch.Generator().manual_seed(self.seed * 1_000_003 + self.epoch)
        for chunk in torch.randperm(len(self.graphs), generator=g).split(self.batch_size):
            yield pack_graphs([self.graphs[i] for i in chunk.tolist()])


def pack_graphs(graphs: list[dict[str, np.ndarray]]) -> dict[str, torch.Tensor]:
    """Each graph: question [Hq], features [N, F], edges [E, 2], symbols [E], cand_node [C]
    (-1 = outside), cand_base [C], cand_gold [C] bool."""
    offset, parts = 0, {k: [] for k in ("features", "edges", "symbols", "graph", "cand_node", "cand_graph",
                                        "cand_base", "cand_gold")}
    for i, gr in enumerate(graphs):
        n = len(gr["features"])
        parts["features"].append(gr["features"])
        parts["edges"].append(gr["edges"] + offset)
        parts["symbols"].append(gr["symbols"])
        parts["graph"].append(np.full(n, i))
        parts["cand_node"].append(np.where(gr["cand_node"] >= 0, gr["cand_node"] + offset, -1))
        parts["cand_graph"].append(np.full(len(gr["cand_node"]), i))
        parts["cand_base"].append(gr["cand_base"])
        parts["cand_gold"].append(gr["cand_gold"])
        offset += n
    out = {k: torch.from_numpy(np.concatenate(v)) for k, v in parts.items()}
    out["features"] = out["features"].float()
    out["cand_base"] = out["cand_base"].float()
    out["cand_gold"] = out["cand_gold"].bool()
    for k in ("edges", "symbols", "graph", "cand_node", "cand_graph"):
        out[k] = out[k].long()
    out["question"] = torch.from_numpy(np.stack([gr["question"] for gr in graphs])).float()
    return out
