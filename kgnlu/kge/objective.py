"""A KGE model with its training loss, as one module for :class:`kgnlu.training.trainer.Trainer`.

``forward(batch [B, 3]) → {"loss": scalar}``: sLCWA (negatives drawn from torch's global RNG,
which the trainer seeds per rank and restores on resume) or 1-N scoring, plus the regulariser.
"""

from __future__ import annotations

import torch
from torch import nn

from kgnlu.kge.losses import one_n_loss, regularization, slcwa_loss
from kgnlu.kge.models import KGEModel
from kgnlu.kge.sampling import adversarial_weights, negative_scores


class KGEObjective(nn.Module):
    def __init__(self, model: KGEModel, config):  # config: kgnlu.kge.training.TrainConfig
        super().__init__()
        self.model, self.config = model, config

    def forward(self, batch: torch.Tensor) -> dict[str, torch.Tensor]:  # batch [B, 3] (h, r, t) → {"loss": []}
        m, c = self.model, self.config
        if c.mode == "slcwa":
            positive, negative = negative_scores(m, batch, c.sampling)  # [B], [B, k]
            loss = slcwa_loss(positive, negative, c.loss, adversarial_weights(negative, c.sampling))
        else:
            # the model's own interaction against every entity, as in ranking: [B, N] per side
            entities = m.entities.all()  # [N, D]
            h, r, t = entities[batch[:, 0]], batch[:, 1], entities[batch[:, 2]]
            loss = 0.5 * (one_n_loss(m.compare_all(m.query_t(h, m.relations(r)), entities), batch[:, 2], c.loss)
                          + one_n_loss(m.compare_all(m.head_query(r, t), entities), batch[:, 0], c.loss))
        if c.regularizer != "none" and c.reg_weight > 0:
            h, r, t = m.entities(batch[:, 0]), m.relations(batch[:, 1]), m.entities(batch[:, 2])
            loss = loss + c.reg_weight * regularization([h, r, t], c.regularizer, c.reg_p, m.complex_valued)
        return {"loss": loss}
