"""Training the word-sense bi-encoder (:mod:`.sense_model`) on WordNet's own annotation.

Data: every example sentence of a synset uses one of its lemmas in that sense. The target span is
found as the evaluation finds it (:func:`kgnlu.eval.linking.wordnet_examples`: longest lemma first,
through morphology); the candidates are every synset of that lemma, any part of speech. The
held-out synsets of the evaluation (``split_of(id) == "test"``, ~10% by hash) never appear: not
their examples, not their glosses, not even as negative candidates, so the held-out score measures
senses the model has never seen. Lemmas left with one candidate teach nothing and are dropped.

Loss (BEM): cross-entropy over the example's candidates of ``scale · cos(context, gloss)``. Only
the top ``trainable_layers`` layers of each encoder learn (the rest stay MiniLM's), so one pass
over a sample fits a CPU budget.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from kgnlu.errors import ConfigError, DataMissingError, TrainingError
from kgnlu.kg.linker.sense_model import SenseConfig, SenseModel, gloss_text


@dataclass(frozen=True)
class SenseTrainingExample:
    text: str
    start: int
    end: int
    gold: str  # synset id
    candidates: tuple[str, ...]  # every non-held-out synset of the matched lemma, gold included


@dataclass
class SenseData:
    examples: list[SenseTrainingExample]
    glosses: dict[str, str]  # synset id → gloss text, for every candidate
    heldout_synsets: int  # synsets the split kept out
    skipped_monosemous: int = 0


def sense_training_data(directory: Path | str, *, split_of: Callable[[str], str] | None = None,
                        split: str = "dev") -> SenseData:
    """Training examples from a WordNet dict folder; only synsets with ``split_of(id) == split``
    (default: the evaluation's non-held-out "dev" synsets) are examples or candidates."""
    import spacy

    from kgnlu.kg.graph_builder import alias_key
    from kgnlu.kg.linker.mentions import Morphology
    from kgnlu.kg.linker.sense_split import find_lemma as _find_lemma
    from kgnlu.kg.linker.sense_split import split_of as default_split
    from kgnlu.kg.sources.wordnet_format import read_exceptions, read_synsets

    directory = Path(directory)
    if not directory.is_dir():
        raise DataMissingError(f"no WordNet dict folder at {directory}; install wordnet-base or pass --wordnet DIR")
    split_of = split_of or default_split
    synsets = list(read_synsets(directory))
    kept = [s for s in synsets if split_of(s.id) == split]
    by_lemma: dict[str, list[str]] = {}
    for s in kept:
        for lemma in s.lemmas:
            ids = by_lemma.setdefault(alias_key(lemma.name.replace("_", " ")), [])
            if s.id not in ids:
                ids.append(s.id)
    morphology = Morphology(read_exceptions(directory))
    tokenizer = spacy.blank("en").tokenizer
    examples: list[SenseTrainingExample] = []
    glosses: dict[str, str] = {}
    gloss_of = {s.id: gloss_text(s.definition) for s in kept}
    mono = 0
    for s in kept:
        # longest first, ties by spelling: a set's order changes with the process's hash seed
        lemmas = sorted({alias_key(lemma.name.replace("_", " ")) for lemma in s.lemmas}, key=lambda k: (-len(k), k))
        for ex in s.examples:
            doc = tokenizer(ex)
            span = None
            for lemma in lemmas:  # the evaluation's rule: the longest lemma that occurs
                span = _find_lemma(doc, [lemma], s.pos, morphology)
                if span is not None:
                    break
            if span is None:
                continue
            cands = tuple(by_lemma[lemma])
            if len(cands) < 2:
                mono += 1
                continue
            examples.append(SenseTrainingExample(ex, span[0], span[1], s.id, cands))
            for c in cands:
                glosses[c] = gloss_of[c]
    return SenseData(examples, glosses, len(synsets) - len(kept), mono)


@dataclass
class SenseTrainingConfig:
    examples: int = 8_000  # sampled from ~31k; one pass of this many fits ~25 min on 2 busy CPU cores
    batch_size: int = 16
    learning_rate: float = 1e-4
    warmup: float = 0.06  # share of steps with a linear warm-up, then linear decay
    max_candidates: int = 6  # per example: gold + this many - 1 others (sampled); bounds the gloss batch
    seed: int = 0
    model: SenseConfig = field(default_factory=SenseConfig)


def train_sense_model(data: SenseData, out: Path | str | None, config: SenseTrainingConfig | None = None, *,
                      model: SenseModel | None = None,
                      on_step: Callable[[int, int, float], None] | None = None) -> tuple[SenseModel, dict]:
    """One pass over a seeded sample of ``data``; saves to ``out`` (atomically, at the end) when
    given. Returns the model and a summary (losses, seconds, counts)."""
    import torch

    cfg = config or SenseTrainingConfig()
    if cfg.batch_size < 1 or cfg.max_candidates < 2:
        raise ConfigError("batch_size must be ≥ 1 and max_candidates ≥ 2")
    if not data.examples:
        raise TrainingError("no training examples (every lemma had one sense, or the split is empty)")
    rng = random.Random(cfg.seed)
    torch.manual_seed(cfg.seed)
    sample = list(data.examples)
    rng.shuffle(sample)
    if cfg.examples:
        sample = sample[:cfg.examples]
    model = model or SenseModel.minilm(cfg.model)
    model.config.trainable_layers = cfg.model.trainable_layers
    model.config.gloss_trainable_layers = cfg.model.gloss_trainable_layers
    params = model.freeze_lower_layers()
    optim = torch.optim.AdamW(params, lr=cfg.learning_rate, weight_decay=0.01)
    steps = math.ceil(len(sample) / cfg.batch_size)
    warm = max(1, int(cfg.warmup * steps))
    sched = torch.optim.lr_scheduler.LambdaLR(
        optim, lambda s: min((s + 1) / warm, max(0.0, (steps - s) / max(1, steps - warm))))
    model.train()
    losses: list[float] = []
    start = time.perf_counter()
    for step in range(steps):
        batch = sample[step * cfg.batch_size:(step + 1) * cfg.batch_size]
        cand_lists = []
        for ex in batch:
            others = [c for c in ex.candidates if c != ex.gold]
            if len(others) > cfg.max_candidates - 1:
                others = rng.sample(others, cfg.max_candidates - 1)
            cand_lists.append([ex.gold, *others])
        union = list(dict.fromkeys(c for cands in cand_lists for c in cands))
        col = {c: i for i, c in enumerate(union)}
        ctx = model.context_vectors([ex.text for ex in batch], [(ex.start, ex.end) for ex in batch])  # (B, H)
        gl = model.gloss_vectors([data.glosses[c] for c in union])  # (U, H)
        logits = model.config.scale * ctx @ gl.T  # (B, U)
        allowed = torch.zeros_like(logits, dtype=torch.bool)
        for b, cands in enumerate(cand_lists):
            allowed[b, [col[c] for c in cands]] = True
        logits = logits.masked_fill(~allowed, float("-inf"))
        gold = torch.tensor([col[ex.gold] for ex in batch], device=logits.device)
        loss = torch.nn.functional.cross_entropy(logits, gold)
        optim.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optim.step()
        sched.step()
        losses.append(float(loss.detach()))
        if on_step is not None:
            on_step(step + 1, steps, losses[-1])
    seconds = time.perf_counter() - start
    model.eval()
    model.config.trained_examples = len(sample)
    summary = {"examples": len(sample), "available_examples": len(data.examples), "steps": steps,
               "batch_size": cfg.batch_size, "learning_rate": cfg.learning_rate,
               "trainable_layers": model.config.trainable_layers,
               "gloss_trainable_layers": model.config.gloss_trainable_layers, "seed": cfg.seed,
               "heldout_synsets": data.heldout_synsets, "seconds": round(seconds, 1),
               "first_loss": _mean(losses[:20]), "last_loss": _mean(losses[-20:]),
               "losses": [round(x, 4) for x in losses]}
    if out is not None:
        model.save_pretrained(out)
        summary["out"] = str(out)
    return model, summary


def _mean(xs: list[float]) -> float | None:
    return round(sum(xs) / len(xs), 4) if xs else None
