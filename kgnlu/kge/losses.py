"""Losses for sLCWA (positive [B] vs. negative [B, k] scores) and 1-N training ([B, N] scores).

Definitions follow PyKEEN's, so a run here and a PyKEEN run with the same settings optimise the
same objective:

- ``margin``: mean over (positive, negative) pairs of relu(γ - s⁺ + s⁻) (Bordes et al. 2013);
- ``softplus``: mean over all scores of softplus(-y·s) with y = ±1 (Trouillon et al. 2016);
- ``bce``: binary cross-entropy on sigmoid(s) with optional label smoothing;
- ``nssa``: RotatE's self-adversarial loss, ½(-log σ(γ + s⁺) - Σ w·log σ(-γ - s⁻)) (Sun et al. 2019);
- ``ce`` (1-N only): softmax cross-entropy of the true entity against all entities (1vsAll).

With self-adversarial weights ``w`` [B, k] (rows sum to 1), the negative terms of every loss are
summed with ``w`` per positive instead of averaged.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from kgnlu.errors import ConfigError

SLCWA_LOSSES = ("margin", "softplus", "bce", "nssa")
ONE_N_LOSSES = ("ce", "bce")


@dataclass
class LossConfig:
    name: str = "nssa"
    margin: float = 9.0  # γ of margin and nssa (RotatE uses 6-24; TransE 1)
    label_smoothing: float = 0.0  # bce and ce

    def __post_init__(self) -> None:
        if self.name not in SLCWA_LOSSES + ONE_N_LOSSES:
            raise ConfigError(f"loss.name must be one of {', '.join(sorted(set(SLCWA_LOSSES + ONE_N_LOSSES)))}, "
                              f"got {self.name!r}")
        if not 0.0 <= self.label_smoothing < 1.0:
            raise ConfigError(f"loss.label_smoothing must be in [0, 1), got {self.label_smoothing}")


def _negative_mean(values: torch.Tensor, weights: torch.Tensor | None) -> torch.Tensor:
    """values [B, k] → scalar: mean over everything, or weighted sum per row then mean."""
    if weights is None:
        return values.mean()
    return (weights * values).sum(dim=1).mean()


def slcwa_loss(positive: torch.Tensor, negative: torch.Tensor, config: LossConfig,
               weights: torch.Tensor | None = None) -> torch.Tensor:
    """positive [B], negative [B, k], weights [B, k] or None → scalar loss."""
    name = config.name
    if name == "margin":
        return _negative_mean(F.relu(config.margin - positive.unsqueeze(1) + negative), weights)
    if name in ("softplus", "bce"):
        eps = config.label_smoothing if name == "bce" else 0.0
        pos = F.binary_cross_entropy_with_logits(positive, torch.full_like(positive, 1.0 - eps), reduction="none")
        neg = F.binary_cross_entropy_with_logits(negative, torch.full_like(negative, eps), reduction="none")
        if eps:  # masked candidates (the positive itself, see sampling.MASKED_SCORE) must add nothing
            neg = neg.masked_fill(negative <= -1e4, 0.0)
        if weights is None:  # PyKEEN: one mean over the B + B·k pointwise terms
            return (pos.sum() + neg.sum()) / (pos.numel() + neg.numel())
        return 0.5 * (pos.mean() + (weights * neg).sum(dim=1).mean())
    if name == "nssa":
        pos = -F.logsigmoid(config.margin + positive).mean()
        neg = _negative_mean(-F.logsigmoid(-negative - config.margin), weights)
        return 0.5 * (pos + neg)
    raise ConfigError(f"loss {name!r} is for 1-N training; sLCWA takes {', '.join(SLCWA_LOSSES)}")


def one_n_loss(scores: torch.Tensor, targets: torch.Tensor, config: LossConfig) -> torch.Tensor:
    """scores [B, N] against all entities, targets [B] (the true entity) → scalar loss."""
    if config.name == "ce":
        return F.cross_entropy(scores, targets, label_smoothing=config.label_smoothing)
    if config.name == "bce":
        labels = torch.zeros_like(scores)
        labels[torch.arange(len(targets), device=scores.device), targets] = 1.0
        if config.label_smoothing:
            labels = labels * (1.0 - config.label_smoothing) + config.label_smoothing / scores.shape[1]
        return F.binary_cross_entropy_with_logits(scores, labels)
    raise ConfigError(f"loss {config.name!r} does not apply to 1-N training; use 'ce' or 'bce'")


def regularization(tensors: list[torch.Tensor], kind: str, p: float, complex_valued: bool) -> torch.Tensor:
    """Mean over rows of ||x||_p^p / D ("lp", PyKEEN's normalised LpRegularizer) or of the sum of
    cubed complex moduli ("n3", Lacroix et al. 2018; complex tensors as [re | im])."""
    total = tensors[0].new_zeros(())
    for x in tensors:
        if kind == "lp":
            total = total + x.abs().pow(p).sum(dim=-1).mean() / x.shape[-1]
        elif kind == "n3":
            if complex_valued:
                re, im = x.chunk(2, dim=-1)
                x = torch.sqrt(re * re + im * im + 1e-12)  # moduli [.., d]
            total = total + x.abs().pow(3).sum(dim=-1).mean()
        else:
            raise ConfigError(f"regularizer must be 'none', 'lp' or 'n3', got {kind!r}")
    return total
