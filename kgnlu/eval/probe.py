"""A LAMA-style cloze probe over graph facts, for any model with an MLM head (plain, fused, control).

    model, tokenizer, spec = load_pretraining_model("runs/fusion-minilm-kar")
    scorer = ClozeScorer(model, tokenizer, linker=linker, entity_row=rows)   # linker: fused models only
    report = run_probe(scorer, read_probe_facts("corpus-dir"), ProbeConfig())
    report["splits"]["heldout"]["all"]["macro"]      # {"p@1", "p@10", "mrr", "n"}

Scoring (multi-token answers): every fact is asked through each template of its relation
(:data:`kgnlu.data.probe_data.RELATIONS`) with the answer slot replaced by L ``[MASK]`` tokens,
for every answer length L (in wordpieces) among the relation's candidates. A candidate of length
L scores the mean over its L positions of log p(piece_i | the sentence with L masks) — the
independent per-position predictions of one forward pass (Petroni et al. 2019 probe single
tokens; the mean rather than the sum so long answers are not penalised for their length) —
averaged over the templates. Candidates are the relation's answers over all its probe facts
(LAMA ranks the whole vocabulary, which only works for single-token answers); the fact's other
correct answers are filtered out before ranking (the filtered setting of KGE evaluation). P@1,
P@10 and MRR follow from the gold answer's rank (1 + the candidates scoring strictly higher).

Fused models: the probe sentence is linked by the entity linker (links overlapping the answer
slot are dropped: the slot is never linked) and aligned like the pretraining batches. A run
trained with graph slots (``fusion.data.graph_slots``) gets its answer slot as one, exactly as
its masked mentions were in pretraining: candidates are the graph neighbours of the sentence's
linked entities (:mod:`kgnlu.fusion.slots`), chosen without the answer.

Reported per split (``heldout``: facts never stated in the pretraining text; ``seen``) and per
subset (``all``; ``uhn``: facts not guessable from the subject's surface form,
:func:`kgnlu.data.probe_data.guessable`; ``single`` / ``multi``-token answers): per relation, the
micro average over facts and the macro average over relations (LAMA's mean P@1).
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import torch

from kgnlu.data.probe_data import ProbeFact, guessable, relation_by_name
from kgnlu.errors import ConfigError

if TYPE_CHECKING:
    from kgnlu.fusion.alignment import EntityInputs

MASK = "[MASK]"


@dataclass
class ProbeConfig:
    templates: int | None = None  # use the first N templates of each relation (None = all)
    max_facts: int | None = None  # per relation and split (None = every fact given)
    max_answer_pieces: int = 4  # longer answers (in wordpieces) are not asked: each length costs a forward pass
    batch_size: int = 64  # probe sentences per forward pass
    use_entities: bool = True  # fused models: link and align the probe sentences

    def __post_init__(self) -> None:
        if self.batch_size < 1 or self.max_answer_pieces < 1:
            raise ConfigError("probe batch_size and max_answer_pieces must be >= 1")


class ClozeScorer:
    """Log-probabilities at the [MASK] positions of sentences, from a PretrainingModel's MLM head."""

    def __init__(self, model, tokenizer, linker=None, entity_row: Callable[[str], int | None] | None = None,
                 max_length: int = 64, max_entities: int = 16, max_candidates: int = 8, neighbourhood=None,
                 label_pieces=None):
        """``neighbourhood``: a :class:`kgnlu.fusion.slots.GraphNeighbourhood` turns each run of
        [MASK] tokens into a graph slot (runs pretrained with ``graph_slots``); ``label_pieces``
        (:class:`kgnlu.fusion.slot_copy.LabelPieces`) gives the slot candidates' names to an MLM
        that copies them (``slot_pieces``)."""
        if "mlm" not in getattr(model, "objectives", {}):
            raise ConfigError("the probe needs a model with an MLM head (a PretrainingModel trained with mlm)")
        if tokenizer.mask_id is None:
            raise ConfigError("the probe needs a tokenizer with a [MASK] token")
        self.model, self.tokenizer = model.eval(), tokenizer
        self.mlm = model.objectives["mlm"]  # log_probs: the MLM softmax, or its mixture with copying
        self.linker, self.aligner = linker, None
        if linker is not None:
            from kgnlu.fusion.alignment import Aligner

            if entity_row is None:
                raise ConfigError("a fused probe needs entity_row (external id → entity-table row)")
            self.aligner = Aligner(tokenizer, entity_row, max_length, max_entities, max_candidates)
        self.max_length, self.neighbourhood, self.label_pieces = max_length, neighbourhood, label_pieces

    def prepare(self, texts: Sequence[str]) -> tuple[Any, EntityInputs | None, dict[str, torch.Tensor],
                                                    torch.Tensor | None]:
        """Texts → (TokenBatch, entity inputs or None, extra batch entries, (B, M) mask of the graph
        slots added or None): the linked, aligned (and slotted) inputs :meth:`mask_log_probs` scores."""
        if self.aligner is None:
            return self.tokenizer.encode_batch(texts, max_length=self.max_length), None, {}, None
        links = [[link for link in self.linker.link(text) if not _overlaps_mask(text, link.start, link.end)]
                 for text in texts]
        tokens, entities = self.aligner(texts, links)
        if self.neighbourhood is None:
            return tokens, entities, {}, None
        from kgnlu.fusion.slots import add_slots, mask_runs

        entities, slots = add_slots(entities, mask_runs(tokens.input_ids, self.tokenizer.mask_id), self.neighbourhood)
        extra = {}
        if self.label_pieces is not None:
            from kgnlu.fusion.slot_copy import candidate_pieces

            extra["entity_candidate_pieces"] = candidate_pieces(entities.candidate_ids, entities.candidate_mask, slots,
                                                                self.label_pieces, self.label_pieces.max_pieces)
        return tokens, entities, extra, slots

    def mask_log_probs(self, texts: Sequence[str]) -> list[torch.Tensor]:
        """Per text, (masks in it, V) log-softmax over the vocabulary at its [MASK] tokens, in order."""
        tokens, entities, extra, _ = self.prepare(texts)
        inputs = {} if entities is None else {"entities": entities}
        ids = tokens.input_ids  # (B, S)
        masked = ids == self.tokenizer.mask_id
        with torch.inference_mode():
            output = self.model.encoder(ids, tokens.attention_mask, tokens.token_type_ids, **inputs)
            labels = torch.where(masked, ids, torch.full_like(ids, -100))
            batch = {"labels": labels, **extra, **(entities.to_batch() if entities is not None else {})}
            log_probs, _ = self.mlm.log_probs(batch, output)  # (M, V): masked, row-major
        counts = masked.sum(1).tolist()
        return list(torch.split(log_probs, counts))


_MASK_RE = re.compile(re.escape(MASK))


def _overlaps_mask(text: str, start: int, end: int) -> bool:
    return any(m.start() < end and start < m.end() for m in _MASK_RE.finditer(text))


def fill(template: str, subject: str, pieces: int) -> str:
    return template.replace("[X]", subject).replace("[Y]", " ".join([MASK] * pieces))


def rank_of(gold: float, others: Iterable[float]) -> int:
    """1 + the number of candidates scoring strictly higher than the gold answer."""
    return 1 + sum(score > gold for score in others)


def metrics(ranks: Sequence[int]) -> dict[str, float]:
    """P@1, P@10 and MRR of gold ranks (1-based); zeros with n = 0 when there is nothing to rank."""
    n = len(ranks)
    if n == 0:
        return {"p@1": 0.0, "p@10": 0.0, "mrr": 0.0, "n": 0}
    return {"p@1": sum(r == 1 for r in ranks) / n, "p@10": sum(r <= 10 for r in ranks) / n,
            "mrr": sum(1.0 / r for r in ranks) / n, "n": n}


def macro(per_relation: Mapping[str, Mapping[str, float]]) -> dict[str, float]:
    """Mean of each metric over the relations that have facts (LAMA's mean over relations)."""
    rows = [m for m in per_relation.values() if m["n"]]
    if not rows:
        return {"p@1": 0.0, "p@10": 0.0, "mrr": 0.0, "n": 0}
    return {**{k: sum(m[k] for m in rows) / len(rows) for k in ("p@1", "p@10", "mrr")},
            "n": sum(m["n"] for m in rows)}


def _select(facts: Sequence[ProbeFact], config: ProbeConfig) -> list[ProbeFact]:
    if config.max_facts is None:
        return list(facts)
    taken: dict[tuple[str, str], int] = defaultdict(int)
    out = []
    for fact in facts:
        key = (fact.relation, fact.split)
        if taken[key] < config.max_facts:
            taken[key] += 1
            out.append(fact)
    return out


def candidate_pools(facts: Iterable[ProbeFact]) -> dict[str, list[str]]:
    """Relation → its candidate answers: the answer labels of all its facts, both splits, in order."""
    pools: dict[str, dict[str, None]] = defaultdict(dict)
    for fact in facts:
        pools[fact.relation][fact.answer_label] = None
    return {relation: list(labels) for relation, labels in pools.items()}


def score_facts(scorer: ClozeScorer, facts: Sequence[ProbeFact], config: ProbeConfig,
                pools: Mapping[str, Sequence[str]] | None = None,
                on_batch: Callable[[int], None] | None = None) -> list[dict]:
    """Per fact: ``{"fact", "rank", "pieces", "top"}`` (``top``: the best-scoring candidate).
    ``pools``: the candidates per relation (default :func:`candidate_pools` of ``facts``)."""
    tokenizer = scorer.tokenizer
    pools = pools if pools is not None else candidate_pools(facts)
    by_relation: dict[str, list[ProbeFact]] = defaultdict(list)
    for fact in facts:
        by_relation[fact.relation].append(fact)
    results = []
    for relation, group in by_relation.items():
        templates = relation_by_name(relation).templates[: config.templates or None]
        pieces = {}
        for label in dict.fromkeys([*pools.get(relation, ()), *(f.answer_label for f in group)]):
            n = len(tokenizer.encode(label, add_special_tokens=False))
            if 0 < n <= config.max_answer_pieces:
                pieces[label] = tokenizer.encode(label, add_special_tokens=False)
        lengths = sorted({len(p) for p in pieces.values()})
        asked = [f for f in group if f.answer_label in pieces]
        jobs = [(i, t, n) for i in range(len(asked)) for t in range(len(templates)) for n in lengths]
        scores = [defaultdict(float) for _ in asked]  # fact → candidate → summed template score
        for lo in range(0, len(jobs), config.batch_size):
            chunk = jobs[lo:lo + config.batch_size]
            texts = [fill(templates[t], asked[i].subject_label, n) for i, t, n in chunk]
            for (i, _, n), log_probs in zip(chunk, scorer.mask_log_probs(texts), strict=True):
                if log_probs.shape[0] != n:  # truncated: a very long subject name; its candidates score -inf
                    continue
                for label, ids in pieces.items():
                    if len(ids) == n:
                        scores[i][label] += float(log_probs[torch.arange(n), torch.tensor(ids)].mean())
            if on_batch is not None:
                on_batch(len(chunk))
        for fact, fact_scores in zip(asked, scores, strict=True):
            others = set(fact.answers) - {fact.answer_label}
            pool = {label: fact_scores.get(label, -math.inf) for label in pieces if label not in others}
            gold = pool[fact.answer_label]
            results.append({"fact": fact, "rank": rank_of(gold, [s for lab, s in pool.items()
                                                                 if lab != fact.answer_label]),
                            "pieces": len(pieces[fact.answer_label]),
                            "top": max(pool, key=pool.get)})
    return results


def summarise(results: Sequence[dict]) -> dict:
    """``{split: {subset: {"relations": {rel: metrics}, "micro": ..., "macro": ...}}}``."""
    subsets: dict[str, Callable[[dict], bool]] = {
        "all": lambda r: True,
        "uhn": lambda r: not guessable(r["fact"].subject_label, r["fact"].answer_label),
        "single": lambda r: r["pieces"] == 1,
        "multi": lambda r: r["pieces"] > 1,
    }
    out: dict = {}
    for split in ("heldout", "seen"):
        rows = [r for r in results if r["fact"].split == split]
        out[split] = {}
        for name, keep in subsets.items():
            chosen = [r for r in rows if keep(r)]
            per_relation: dict[str, list[int]] = defaultdict(list)
            for r in chosen:
                per_relation[r["fact"].relation].append(r["rank"])
            relations = {rel: metrics(ranks) for rel, ranks in sorted(per_relation.items())}
            out[split][name] = {"relations": relations, "micro": metrics([r["rank"] for r in chosen]),
                                "macro": macro(relations)}
    return out


def run_probe(scorer: ClozeScorer, facts: Sequence[ProbeFact], config: ProbeConfig | None = None,
              on_batch: Callable[[int], None] | None = None) -> dict:
    """Score ``facts`` and summarise; ``examples`` keeps a few held-out predictions to read."""
    config = config or ProbeConfig()
    results = score_facts(scorer, _select(facts, config), config, candidate_pools(facts), on_batch)
    examples = [{"relation": r["fact"].relation, "subject": r["fact"].subject_label,
                 "answer": r["fact"].answer_label, "predicted": r["top"], "rank": r["rank"]}
                for r in results if r["fact"].split == "heldout"][:: max(1, len(results) // 40)]
    return {"facts": len(results), "splits": summarise(results), "examples": examples}


# ------------------------------------------------------------------ evaluating run folders and reporting
def probe_runs(runs: Sequence[str], facts: Sequence[ProbeFact], config: ProbeConfig, graph=None,
               ablate_entities: bool = False, linker_mode: str = "fast") -> dict:
    """Probe each ``kgnlu pretrain`` run folder (fused ones with linked entities, and, with
    ``ablate_entities``, once more without them); ``{"models": {name: report}, "config": ...}``."""
    from pathlib import Path

    from kgnlu.config import to_dict
    from kgnlu.pretrain.fused import entity_rows, load_pretraining_model
    from kgnlu.progress import progress_bar

    models: dict[str, dict] = {}
    linker = None
    for run in runs:
        model, tokenizer, spec = load_pretraining_model(run)
        name = Path(run).name
        variants = [(name, spec is not None and spec.fused and config.use_entities)]
        if ablate_entities and variants[0][1]:
            variants.append((f"{name} (no entities)", False))
        for label, with_entities in variants:
            scorer_linker, rows, neighbourhood, label_pieces = None, None, None, None
            if with_entities:
                if graph is None:
                    from kgnlu.kg import KnowledgeGraph

                    graph = KnowledgeGraph.load(spec.graph, verify=False)
                if linker is None:
                    from kgnlu.kg.linker import EntityLinker

                    linker = EntityLinker.from_graph(graph, mode=linker_mode)
                scorer_linker, rows = linker, entity_rows(graph)
                from kgnlu.pretrain.fused import slot_helpers

                neighbourhood, label_pieces = slot_helpers(graph, tokenizer, spec.data)
            data = spec.data if spec is not None else None
            scorer = ClozeScorer(model, tokenizer, scorer_linker, rows,
                                 max_entities=data.max_entities if data else 16,
                                 max_candidates=data.max_candidates if data else 8, neighbourhood=neighbourhood,
                                 label_pieces=label_pieces)
            with progress_bar(desc=f"probe {label}", unit="sentence") as bar:
                models[label] = {"run": str(run), "entities": with_entities,
                                 **run_probe(scorer, facts, config, on_batch=bar.update)}
    return {"config": to_dict(config), "models": models}


def markdown_report(report: Mapping) -> str:
    """One table per split: macro P@1 / P@10 / MRR per model and subset, then held-out P@1 per relation."""
    models = report["models"]
    lines = ["# Cloze probe (LAMA-style) over graph facts", ""]
    for split, title in (("heldout", "held-out facts (never stated in the pretraining text)"),
                         ("seen", "seen facts (stated in the pretraining text)")):
        lines += [f"## {title}", "", "| model | subset | facts | P@1 | P@10 | MRR |", "|---|---|---|---|---|---|"]
        for name, rep in models.items():
            for subset in ("all", "uhn", "single", "multi"):
                m = rep["splits"][split][subset]["macro"]
                lines.append(f"| {name} | {subset} | {m['n']} | {100 * m['p@1']:.1f} | {100 * m['p@10']:.1f} | "
                             f"{m['mrr']:.3f} |")
        lines.append("")
    relations = sorted({rel for rep in models.values() for rel in rep["splits"]["heldout"]["all"]["relations"]})
    lines += ["## held-out P@1 per relation (all / UHN)", "",
              "| relation | " + " | ".join(models) + " |", "|---|" + "---|" * len(models)]
    for rel in relations:
        cells = []
        for rep in models.values():
            a = rep["splits"]["heldout"]["all"]["relations"].get(rel)
            u = rep["splits"]["heldout"]["uhn"]["relations"].get(rel)
            cells.append("—" if a is None else f"{100 * a['p@1']:.1f} / {100 * u['p@1']:.1f} (n={a['n']})"
                         if u else f"{100 * a['p@1']:.1f} / — (n={a['n']})")
        lines.append(f"| {rel} | " + " | ".join(cells) + " |")
    lines += ["", "P@k in %, macro-averaged over relations; UHN drops facts whose answer can be read off the "
              "subject's name. Candidates: each relation's answers; multi-token answers scored by the mean "
              "log-probability of independent [MASK] predictions."]
    return "\n".join(lines) + "\n"


def plot_report(report: Mapping, path) -> None:
    """Grouped bars: held-out P@1 per relation for each model (macro over relations at the right)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from kgnlu.io import save_png

    models = report["models"]
    relations = sorted({rel for rep in models.values() for rel in rep["splits"]["heldout"]["all"]["relations"]})
    groups = [*relations, "macro (all)", "macro (UHN)"]
    width = 0.8 / max(1, len(models))
    fig, ax = plt.subplots(figsize=(max(7.0, 1.1 * len(groups)), 4.2))
    for k, (name, rep) in enumerate(models.items()):
        held = rep["splits"]["heldout"]
        values = [100 * held["all"]["relations"].get(rel, {"p@1": 0.0})["p@1"] for rel in relations]
        values += [100 * held["all"]["macro"]["p@1"], 100 * held["uhn"]["macro"]["p@1"]]
        ax.bar([i + k * width for i in range(len(groups))], values, width, label=name)
    ax.set_xticks([i + width * (len(models) - 1) / 2 for i in range(len(groups))])
    ax.set_xticklabels(groups, rotation=30, ha="right")
    ax.set_ylabel("P@1 (%) on held-out facts")
    ax.set_title("Cloze probe: facts the pretraining text never states")
    ax.legend(fontsize=8)
    fig.tight_layout()
    save_png(fig, path, dpi=120)
