"""Instances → padded batch tensors.

Every array field is right-padded to the batch's longest sequence (optionally rounded up to a
multiple, which tensor cores like) with its own pad value: ``input_ids`` with [PAD], ``labels``
with -100 (ignored by every loss), everything else with 0. ``attention_mask`` is built here
(1 at real tokens). Scalar fields (``nsp_label``, ``sop_label``) are stacked. ``mlm_positions``
comes out as bool. Output shapes: (B, S) for sequences, (B,) for scalars; all int64 except the
bool masks.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from kgnlu.data.instances.builders import Instance
from kgnlu.data.instances.masking import IGNORE
from kgnlu.errors import ConfigError

BOOL_FIELDS = frozenset({"mlm_positions"})


class PretrainingCollator:
    def __init__(self, pad_id: int, pad_to_multiple_of: int | None = None):
        if pad_to_multiple_of is not None and pad_to_multiple_of < 1:
            raise ConfigError(f"pad_to_multiple_of must be >= 1, got {pad_to_multiple_of}")
        self.pad_id, self.multiple = pad_id, pad_to_multiple_of
        self.pad_values = {"input_ids": pad_id, "labels": IGNORE}

    def __call__(self, instances: Sequence[Instance]) -> dict[str, torch.Tensor]:
        if not instances:
            raise ConfigError("cannot collate an empty batch")
        length = max(len(instance["input_ids"]) for instance in instances)
        if self.multiple:
            length = -(-length // self.multiple) * self.multiple
        batch: dict[str, torch.Tensor] = {}
        for key in instances[0]:
            values = [instance[key] for instance in instances]
            if isinstance(values[0], np.ndarray):
                out = np.full((len(values), length), self.pad_values.get(key, 0), dtype=np.int64)
                for row, value in enumerate(values):
                    out[row, : len(value)] = value
                tensor = torch.from_numpy(out)
                batch[key] = tensor.bool() if key in BOOL_FIELDS else tensor
            else:
                batch[key] = torch.tensor(values, dtype=torch.long)
        mask = np.zeros((len(instances), length), dtype=np.int64)
        for row, instance in enumerate(instances):
            mask[row, : len(instance["input_ids"])] = 1
        batch["attention_mask"] = torch.from_numpy(mask)
        return batch
