"""NSP and SOP accuracy of a pretrained run's sentence-pair head, on pairs from held-out documents.

ALBERT's check (Lan et al. 2020, Table 5): a model trained with NSP is scored on NSP pairs *and*
on SOP pairs, and so is one trained with SOP — each with the one pair head it has. Both heads use
the same convention (label 0 = the coherent order: "B follows A" / "A, B in order"), so a SOP head
answers NSP's question as "is this pair coherent?", as ALBERT evaluated it. NSP can be solved from
topic alone (a random B is usually off-topic); SOP cannot (both segments share the topic), so an
NSP-trained model is expected near chance on SOP while a SOP-trained model also does NSP.

    model, tokenizer = load_pretraining_run("runs/evidence/bert-mini")
    pair_accuracy(model, tokenizer, heldout_corpus, kind="sop", max_length=64)

Pairs are built by the same instance builders as pretraining (``nsp`` / ``sop`` kinds), unmasked,
from documents no run trained on (:mod:`kgnlu.eval.heldout`), with a seed of their own.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch.utils.data import DataLoader

from kgnlu.data.corpora import Corpus
from kgnlu.data.instances import InstanceConfig, PretrainingCollator, PretrainingDataset
from kgnlu.data.tokenizer import Tokenizer
from kgnlu.encoders.encoder import Encoder
from kgnlu.encoders.objectives.model import ENCODER_INPUTS, PretrainingModel
from kgnlu.errors import CheckpointError, ConfigError
from kgnlu.pretrain.config import PretrainConfig, build_encoder_config
from kgnlu.training import checkpoint as ckpt

PAIR_HEADS = ("nsp", "sop")
EVAL_SEED = 20_240_601  # pairs differ from anything a training stream drew (its seed is 0)


def load_pretraining_run(run_dir: str | Path) -> tuple[PretrainingModel, Tokenizer, PretrainConfig]:
    """The whole pretraining model (encoder and heads) from a run folder's newest checkpoint."""
    run_dir = Path(run_dir)
    if not (run_dir / "pretrain_config.yaml").is_file():
        raise CheckpointError(f"{run_dir} has no pretrain_config.yaml; point at a `kgnlu pretrain` run folder")
    config = PretrainConfig.load(run_dir / "pretrain_config.yaml")
    tokenizer = Tokenizer.load(run_dir / "tokenizer")
    encoder_config = build_encoder_config(config.model, tokenizer, config.data.instances.max_length)
    model = PretrainingModel(Encoder(encoder_config), config.objectives, config.objective_options)
    folder = ckpt.latest_checkpoint(run_dir / "checkpoints")
    if folder is None:
        raise CheckpointError(f"{run_dir}/checkpoints holds no checkpoint; the run has not finished a step")
    ckpt.load_weights(folder, model)
    model.eval()
    return model, tokenizer, config


def pair_head(model: PretrainingModel) -> str:
    """The name of the model's one sentence-pair objective (nsp or sop)."""
    heads = [name for name in PAIR_HEADS if name in model.objectives]
    if len(heads) != 1:
        raise ConfigError(f"the model trains {sorted(model.objectives)}; pair accuracy needs exactly one of nsp, sop")
    return heads[0]


@torch.no_grad()
def pair_accuracy(model: PretrainingModel, tokenizer: Tokenizer, corpus: Corpus, kind: str, max_length: int,
                  max_pairs: int = 1000, batch_size: int = 64) -> dict[str, Any]:
    """Accuracy of the model's pair head on up to ``max_pairs`` ``kind`` pairs (nsp or sop) from ``corpus``."""
    if kind not in PAIR_HEADS:
        raise ConfigError(f"pair kind must be nsp or sop, got {kind!r}")
    head_name = pair_head(model)
    head = model.objectives[head_name].head
    config = InstanceConfig(kind=kind, max_length=max_length, mask_pairs=False, short_seq_prob=0.0, seed=EVAL_SEED)
    dataset = PretrainingDataset(corpus, tokenizer, config, rank=0, world_size=1)
    pairs = []
    for instance in dataset.unshuffled():
        pairs.append(instance)
        if len(pairs) >= max_pairs:
            break
    if not pairs:
        raise ConfigError(f"the held-out corpus gave no {kind} pairs; it needs documents of two or more sentences")
    collate = PretrainingCollator(dataset.special.pad)
    model.eval()
    device = next(model.parameters()).device
    correct, positives = 0, 0
    for batch in DataLoader(pairs, batch_size=batch_size, collate_fn=collate):
        batch = {k: v.to(device) for k, v in batch.items()}
        output = model.encoder(batch["input_ids"], **{k: batch[k] for k in ENCODER_INPUTS if k in batch})
        predicted = head(output).logits.argmax(-1)  # (B,): 0 = coherent, 1 = random / swapped
        labels = batch[f"{kind}_label"]
        correct += int((predicted == labels).sum())
        positives += int((labels == 0).sum())
    return {"kind": kind, "head": head_name, "accuracy": correct / len(pairs), "pairs": len(pairs),
            "coherent_share": positives / len(pairs)}  # the accuracy of always answering "coherent"
