"""The training triples as the shared trainer's data: one permutation per epoch, in batches.

The triples stay on the training device; an epoch is one ``randperm`` (a function of the seed and
the epoch, so :class:`kgnlu.training.trainer.Trainer` can replay an interrupted epoch exactly on resume) and
a batch is one gather. Under DDP every rank takes a strided, equal share of the same permutation,
so together the ranks see each triple once per epoch and take the same number of steps.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch


class TripleBatches:
    def __init__(self, triples: torch.Tensor, batch_size: int, seed: int = 0, rank: int = 0, world: int = 1,
                 device: torch.device | str = "cpu"):
        self.triples = triples.to(device)  # int64 [T, 3]
        self.batch_size, self.seed, self.rank, self.world = batch_size, seed, rank, world
        self.per_rank = (len(triples) - len(triples) % world) // world  # equal shares: same steps per rank
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        """Batches (optimizer steps) per epoch on this rank."""
        return -(-self.per_rank // self.batch_size)

    @property
    def triples_per_epoch(self) -> int:
        """Positive triples one epoch trains on, all ranks together."""
        return self.per_rank * self.world

    def __iter__(self) -> Iterator[torch.Tensor]:  # batches [B, 3]
        generator = torch.Generator().manual_seed(self.seed * 1_000_003 + self.epoch)  # same on every rank
        order = torch.randperm(len(self.triples), generator=generator)
        order = order[: self.per_rank * self.world][self.rank::self.world].to(self.triples.device)
        for start in range(0, len(order), self.batch_size):
            yield self.triples[order[start:start + self.batch_size]]
