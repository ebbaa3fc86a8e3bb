"""The padding-free path: drop pad tokens before per-token work, restore them for attention.

Every op of a transformer layer except attention works token by token, so on a padded batch
(B, S) with T real tokens, running them on the packed (T, H) tensor saves the (B·S − T)/(B·S)
share of their FLOPs. Attention scatters Q, K, V back to (B, S) for one fused SDPA call with a
key-padding mask, then gathers the T rows again (as MosaicBERT's unpadded BERT does).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass
class Packing:
    """Where the T real tokens of a (B, S) batch live.

    ``indices``: (T,) positions in the flattened B·S grid, in row-major order.
    ``key_mask``: (B, S) bool, True at real tokens (None when the batch has no padding).
    """

    batch_size: int
    seq_len: int
    indices: torch.Tensor | None
    key_mask: torch.Tensor | None

    @property
    def packed(self) -> bool:
        return self.indices is not None

    @classmethod
    def dense(cls, batch_size: int, seq_len: int, key_mask: torch.Tensor | None) -> Packing:
        return cls(batch_size, seq_len, None, key_mask)

    @classmethod
    def from_mask(cls, attention_mask: torch.Tensor) -> Packing:
        """attention_mask: (B, S), nonzero at real tokens."""
        key_mask = attention_mask.bool()
        indices = key_mask.reshape(-1).nonzero().squeeze(1)  # (T,)
        return cls(attention_mask.shape[0], attention_mask.shape[1], indices, key_mask)

    def pack(self, x: torch.Tensor) -> torch.Tensor:
        """(B, S, ...) → (T, ...)."""
        if self.indices is None:
            return x
        return x.reshape(self.batch_size * self.seq_len, *x.shape[2:]).index_select(0, self.indices)

    def unpack(self, x: torch.Tensor) -> torch.Tensor:
        """(T, ...) → (B, S, ...) with zeros at pad positions; identity on dense batches."""
        if self.indices is None:
            return x
        out = x.new_zeros(self.batch_size * self.seq_len, *x.shape[1:])
        out.index_copy_(0, self.indices, x)
        return out.view(self.batch_size, self.seq_len, *x.shape[1:])
