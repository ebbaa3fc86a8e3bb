"""Training the path reranker (:mod:`.reranker`) on generated questions, with the shared Trainer.

Each training question becomes one listwise example: its masked question against the
descriptions of ``candidates`` paths — the gold path, the gold path with every step's direction
flipped (when the graph has it: the explicit direction negative), and the first stage's best
wrong paths at the gold topic. The loss is the softmax cross-entropy of the gold among them.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from kgnlu.qa.paths import RelationPath


@dataclass
class RerankExample:
    question: str  # masked
    paths: list[int]  # path indices into the model's vocabulary, gold first
    row: int = -1  # the question's row in the scores it was mined from
    gold: int = 0


def flipped(path: RelationPath, profile) -> RelationPath:
    """The path with every step walked the other way, in canonical symbols (``hypernym`` flips to
    ``hyponym`` on WordNet, ``dependsOn`` to ``dependsOn^-1``)."""
    symbols = [int(profile.canonical[s ^ 1]) for s in path.symbols()]
    return RelationPath.from_symbols(symbols)


def mine_examples(model, profile, questions: list[str], topics: list[int], gold_paths: list[RelationPath],
                  path_logp: torch.Tensor, walkable: torch.Tensor, candidates: int, seed: int) -> list[RerankExample]:
    """Listwise examples: ``path_logp`` (N, P) the first stage's scores, ``walkable`` (N, P) bool
    the paths whose first step has an edge at the topic. Questions whose gold path is not in the
    vocabulary are skipped."""
    rng = random.Random(seed)
    scores = path_logp.masked_fill(~walkable, float("-inf"))
    order = torch.argsort(scores, dim=-1, descending=True)[:, : 4 * candidates].tolist()
    out = []
    for i, (q, gold) in enumerate(zip(questions, gold_paths, strict=True)):
        g = model.path_index.get(gold)
        if g is None:
            continue
        chosen = [g]
        flip = model.path_index.get(flipped(gold, profile))
        if flip is not None and flip != g:
            chosen.append(flip)
        for p in order[i]:
            if len(chosen) >= candidates:
                break
            if p not in chosen and bool(walkable[i, p]):
                chosen.append(p)
        if len(chosen) < 2:
            continue  # nothing to tell apart
        rest = chosen[1:]
        rng.shuffle(rest)
        out.append(RerankExample(q, [g, *rest], row=i))
    return out


class RerankObjective(nn.Module):
    def __init__(self, reranker):
        super().__init__()
        self.reranker = reranker

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, token_type_ids: torch.Tensor,
                group: torch.Tensor, gold: torch.Tensor) -> dict[str, torch.Tensor]:
        """(C, S) pair tokens; group (C,) example of each pair; gold (C,) bool the gold pair."""
        logits = self.reranker(input_ids, attention_mask, token_type_ids)  # (C,)
        n = int(group.max()) + 1
        big = torch.full((n,), float("-inf"), dtype=logits.dtype)
        top = big.scatter_reduce(0, group, logits, reduce="amax", include_self=True)
        total = torch.log(torch.zeros(n, dtype=logits.dtype).index_add_(0, group, torch.exp(logits - top[group]))) + top
        gold_logit = torch.zeros(n, dtype=logits.dtype).index_add_(0, group, torch.where(gold, logits, 0.0))
        loss = (total - gold_logit).mean()
        best = big.scatter_reduce(0, group, logits, reduce="amax", include_self=True)
        hit = torch.zeros(n).index_add_(0, group, ((logits == best[group]) & gold).float())
        return {"loss": loss, "accuracy": (hit > 0).float().mean().detach(), "margin": F.relu(loss).detach()}


class RerankBatches:
    """Shuffled batches of whole examples (every candidate of an example in the same batch)."""

    def __init__(self, examples: list[RerankExample], descriptions: list[str], tokenizer, batch_size: int,
                 seed: int = 0):
        self.examples, self.descriptions, self.tokenizer = examples, descriptions, tokenizer
        self.batch_size, self.seed, self.epoch = batch_size, seed, 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return -(-len(self.examples) // self.batch_size)

    def __iter__(self) -> Iterator[dict[str, torch.Tensor]]:
        from kgnlu.qa.reranker import MAX_PAIR_TOKENS

        g = torch.Generator().manual_seed(self.seed * 1_000_003 + self.epoch)
        for chunk in torch.randperm(len(self.examples), generator=g).split(self.batch_size):
            qs, ds, group, gold = [], [], [], []
            for j, i in enumerate(chunk.tolist()):
                ex = self.examples[i]
                for k, p in enumerate(ex.paths):
                    qs.append(ex.question)
                    ds.append(self.descriptions[p])
                    group.append(j)
                    gold.append(k == ex.gold)
            b = self.tokenizer.encode_batch(qs, ds, max_length=MAX_PAIR_TOKENS)
            yield {"input_ids": b.input_ids, "attention_mask": b.attention_mask, "token_type_ids": b.token_type_ids,
                   "group": torch.tensor(group), "gold": torch.tensor(gold)}


def train_reranker(reranker, examples: list[RerankExample], descriptions: list[str], cfg, work_dir,
                   log=print) -> dict:
    """Fine-tune ``reranker`` on ``examples`` (``cfg``: QAConfig's reranker_* knobs); the report."""
    from kgnlu.training.trainer import Trainer, TrainerConfig

    steps = max(1, cfg.reranker_epochs * -(-len(examples) // cfg.reranker_batch_size))
    trainer_cfg = TrainerConfig(out_dir=str(work_dir), max_steps=steps, lr=cfg.reranker_lr, schedule="linear",
                                warmup_steps=max(1, steps // 10), log_every=max(1, min(50, steps // 5)),
                                checkpoint_every=0, keep_checkpoints=1, resume=False, device="cpu",
                                seed=cfg.seed, tensorboard=False, plot=False)
    batches = RerankBatches(examples, descriptions, reranker.tokenizer, cfg.reranker_batch_size, cfg.seed)
    result = Trainer(RerankObjective(reranker), trainer_cfg, batches).fit()
    reranker.eval()
    metrics = dict(result.train_metrics)
    log(f"qa: reranker trained on {len(examples)} questions, {steps} steps: "
        + ", ".join(f"{k} {v:.3f}" for k, v in sorted(metrics.items()) if k in ("loss", "accuracy")))
    return {"examples": len(examples), "steps": steps, **metrics}


def rerank_accuracy(reranker, examples: list[RerankExample], descriptions: list[str]) -> float:
    """Share of ``examples`` whose gold description the reranker scores highest."""
    if not examples:
        return 0.0
    qs = [ex.question for ex in examples for _ in ex.paths]
    ds = [descriptions[p] for ex in examples for p in ex.paths]
    scores = reranker.score(qs, ds)
    at, hits = 0, 0
    for ex in examples:
        s = scores[at: at + len(ex.paths)]
        hits += int(np.argmax(s) == ex.gold)
        at += len(ex.paths)
    return hits / len(examples)
