"""Pretraining orchestration: one config → tokenizer, data, model (plain or KG-fused), Trainer,
saved encoder. It sits above kgnlu.encoders and kgnlu.fusion and drives both (docs/architecture.md).

    from kgnlu.pretrain import PretrainConfig, run_pretraining
    summary = run_pretraining(PretrainConfig.load("configs/bert-mini.yaml"))

- :mod:`kgnlu.pretrain.config`: :class:`PretrainConfig`, the tokenizer and encoder-config builders;
- :mod:`kgnlu.pretrain.run`: :func:`run_pretraining`;
- :mod:`kgnlu.pretrain.fused`: the config's ``fusion`` section (KG-linked continued pretraining) and
  :func:`~kgnlu.pretrain.fused.load_pretraining_model`.
"""

from kgnlu.pretrain.config import PretrainConfig
from kgnlu.pretrain.run import run_pretraining

__all__ = ["PretrainConfig", "run_pretraining"]
