"""Graph slots: a masked span whose candidate entities are the graph neighbours of the text's other
entities — KGLM's *local knowledge graph* (Logan et al. 2019, "Barack's Wife Hillary: Using
Knowledge Graphs for Fact-Aware Language Modeling", ACL 2019, arXiv:1906.07241).

KAR (KnowBERT) attends over the candidates of *linked mentions*. A name the text hides — a masked
mention in pretraining, the answer slot of a cloze probe — has no link, so plain KAR can only hope
that the entity vectors of the words around it encode the missing fact. KGLM instead renders the
next entity by picking it among the graph neighbours of the entities mentioned so far. A graph
slot does the same inside KAR: the span becomes one more mention whose candidates are

    forward neighbours (head → tail edges, and through ``owl:sameAs`` twins) of the row's linked
    entities, nearest mention first, one edge per (entity, relation) in turn (round robin), so a
    hub's thousand hyponyms cannot crowd out its one hypernym; at most ``max_candidates``

with prior score 0 (KAR's ψ must choose from the context alone; the ``el`` objective trains that
choice against the masked mention's own entity, held in ``entity_original_ids``). The slot's
``entity_ids`` is its first candidate, chosen without looking at the hidden entity, so an
injection that reads ``entity_ids`` directly learns nothing from the answer either.

The candidate list depends only on the graph and the *unmasked* entities, never on the hidden
one: a probe asks exactly as pretraining trained.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import torch

from kgnlu.data.instances.masking import IGNORE
from kgnlu.errors import ConfigError
from kgnlu.fusion.alignment import EntityInputs

SAME_AS = "owl:sameAs"


class GraphNeighbourhood:
    """Entity rows (graph indices) → candidate rows for a slot; see the module docstring."""

    def __init__(self, graph, max_candidates: int = 16, cache_size: int = 200_000):
        if max_candidates < 1:
            raise ConfigError(f"graph slots need max_candidates >= 1, got {max_candidates}")
        self.graph, self.max_candidates = graph, max_candidates
        self.same_as = graph.relation_names.get(SAME_AS)  # None when the graph has no sameAs edges
        self._edges = lru_cache(maxsize=cache_size)(self._forward_edges)

    def _forward_edges(self, entity: int) -> tuple[tuple[int, ...], ...]:
        """Per relation (by id), the tails of ``entity``'s outgoing edges, its sameAs twins' included."""
        steps = list(self.graph.neighbors(int(entity), direction="out"))
        twins = [s.tail for s in steps if s.relation == self.same_as]
        for twin in twins:
            steps.extend(s for s in self.graph.neighbors(int(twin), direction="out") if s.relation != self.same_as)
        by_relation: dict[int, list[int]] = {}
        for step in steps:
            if step.relation != self.same_as and step.tail != entity:
                by_relation.setdefault(step.relation, []).append(int(step.tail))
        return tuple(tuple(dict.fromkeys(by_relation[r])) for r in sorted(by_relation))

    def __call__(self, context: Sequence[int]) -> list[int]:
        """Candidates for a slot whose context entities are ``context`` (nearest first)."""
        lists = [tails for entity in dict.fromkeys(int(e) for e in context) for tails in self._edges(entity)]
        out: dict[int, None] = {}
        depth = 0
        while len(out) < self.max_candidates and any(depth < len(tails) for tails in lists):
            for tails in lists:
                if depth < len(tails) and tails[depth] not in out:
                    out[tails[depth]] = None
                    if len(out) == self.max_candidates:
                        break
            depth += 1
        return list(out)


def _by_distance(spans: torch.Tensor, rows: torch.Tensor, start: int, end: int) -> list[int]:
    """``rows`` (K,) ordered by how far their spans (K, 2) lie from [start, end), nearest first."""
    gap = torch.clamp(spans[:, 0] - end, min=0) + torch.clamp(start - spans[:, 1], min=0)  # (K,)
    order = torch.argsort(gap, stable=True)
    return rows[order].tolist()


def _grow(entities: EntityInputs, m: int, c: int) -> EntityInputs:
    """Pad the entity slots to ``m`` and the candidate slots to ``c`` (never shrinks)."""
    b, m0, c0 = entities.candidate_ids.shape
    m, c = max(m, m0), max(c, c0)
    if (m, c) == (m0, c0):
        return entities.replace(**{name: t.clone() for name, t in vars(entities).items()})

    def pad(t: torch.Tensor, shape: tuple[int, ...]) -> torch.Tensor:
        out = torch.zeros(shape, dtype=t.dtype)
        out[tuple(slice(0, n) for n in t.shape)] = t
        return out

    return EntityInputs(pad(entities.entity_ids, (b, m)), pad(entities.entity_mask, (b, m)),
                        pad(entities.spans, (b, m, 2)), pad(entities.weights, (b, m)),
                        pad(entities.candidate_ids, (b, m, c)), pad(entities.candidate_scores, (b, m, c)),
                        pad(entities.candidate_mask, (b, m, c)))


def _fill_slot(out: EntityInputs, b: int, j: int, span: tuple[int, int], candidates: list[int]) -> None:
    out.entity_ids[b, j], out.entity_mask[b, j], out.weights[b, j] = candidates[0], True, 1.0
    out.spans[b, j, 0], out.spans[b, j, 1] = span
    out.candidate_ids[b, j] = 0
    out.candidate_scores[b, j] = 0.0
    out.candidate_mask[b, j] = False
    out.candidate_ids[b, j, :len(candidates)] = torch.tensor(candidates)
    out.candidate_mask[b, j, :len(candidates)] = True


def masked_mentions(entities, labels: torch.Tensor) -> torch.Tensor:
    """(B, M) bool: linked mentions any of whose tokens carry an MLM label (B, S)."""
    positions = torch.arange(labels.shape[1])  # (S,)
    inside = (positions[None, None, :] >= entities.spans[..., :1]) & (positions[None, None, :] < entities.spans[..., 1:])
    return (inside & (labels != IGNORE)[:, None, :]).any(-1) & entities.entity_mask


def masked_mentions_to_slots(entities: EntityInputs, labels: torch.Tensor, neighbourhood: GraphNeighbourhood
                             ) -> tuple[EntityInputs, dict[str, torch.Tensor]]:
    """Pretraining: every linked mention with an MLM label (B, S) on its tokens becomes a graph slot
    (or is dropped, like :func:`kgnlu.fusion.data.drop_masked`, when its context has no neighbours).

    Returns the new inputs and ``{"entity_original_ids", "entity_original_mask", "entity_slot_mask"}``
    (B, M): the hidden entity at each slot (the ``el`` objective's gold), the linked entity
    elsewhere, and which mentions are slots (``el`` reports its accuracy on them apart)."""
    masked = masked_mentions(entities, labels)  # (B, M)
    originals = {"entity_original_ids": entities.entity_ids.clone(), "entity_original_mask": entities.entity_mask.clone(),
                 "entity_slot_mask": torch.zeros_like(masked)}
    if not bool(masked.any()):
        return entities, originals
    context_mask = entities.entity_mask & ~masked
    per_slot: dict[tuple[int, int], list[int]] = {}
    for b, j in masked.nonzero().tolist():
        keep = context_mask[b]
        start, end = entities.spans[b, j].tolist()
        per_slot[(b, j)] = neighbourhood(_by_distance(entities.spans[b][keep], entities.entity_ids[b][keep], start, end))
    widest = max((len(c) for c in per_slot.values()), default=0)
    out = _grow(entities, entities.num_entities, widest)
    for (b, j), candidates in per_slot.items():
        if candidates:
            _fill_slot(out, b, j, tuple(entities.spans[b, j].tolist()), candidates)
        else:  # nothing around it in the graph: the mention goes, as without slots
            out.entity_mask[b, j], out.weights[b, j], out.entity_ids[b, j] = False, 0.0, 0
            out.candidate_mask[b, j], out.candidate_ids[b, j], out.candidate_scores[b, j] = False, 0, 0.0
            originals["entity_original_mask"][b, j] = False
    originals["entity_original_mask"] &= out.entity_mask
    originals["entity_slot_mask"] = masked & out.entity_mask
    return out, originals


def add_slots(entities: EntityInputs, spans: Sequence[Sequence[tuple[int, int]]],
              neighbourhood: GraphNeighbourhood) -> tuple[EntityInputs, torch.Tensor]:
    """Probing: append one graph slot per wordpiece span in ``spans`` (one list per row), its context
    every linked entity of the row. A span whose context has no neighbours adds nothing.
    Returns the inputs and the (B, M) mask of the slots added."""
    if len(spans) != entities.entity_ids.shape[0]:
        raise ConfigError(f"{len(spans)} slot lists for {entities.entity_ids.shape[0]} rows")
    per_row = []
    for b, row_spans in enumerate(spans):
        keep = entities.entity_mask[b]
        linked = entities.entity_mask[b].sum().item()
        slots = [(span, neighbourhood(_by_distance(entities.spans[b][keep], entities.entity_ids[b][keep], *span)))
                 for span in row_spans]
        per_row.append((linked, [(span, c) for span, c in slots if c]))
    m = max((linked + len(slots) for linked, slots in per_row), default=0)
    widest = max((len(c) for _, slots in per_row for _, c in slots), default=0)
    out = _grow(entities, m, widest)
    slot_mask = torch.zeros_like(out.entity_mask)
    for b, (linked, slots) in enumerate(per_row):
        # linked entities fill the first slots of a row (Aligner pads after them), so slots go after
        if linked and not bool(entities.entity_mask[b, :linked].all()):
            raise ConfigError("add_slots expects each row's linked entities first (as Aligner returns them)")
        for offset, (span, candidates) in enumerate(slots):
            _fill_slot(out, b, linked + offset, span, candidates)
            slot_mask[b, linked + offset] = True
    return out, slot_mask


def mask_runs(input_ids: torch.Tensor, mask_id: int) -> list[list[tuple[int, int]]]:
    """(B, S) ids → per row, the [start, end) runs of consecutive ``mask_id`` tokens."""
    runs: list[list[tuple[int, int]]] = []
    for row in (input_ids == mask_id).tolist():
        spans, start = [], None
        for t, is_mask in enumerate([*row, False]):
            if is_mask and start is None:
                start = t
            elif not is_mask and start is not None:
                spans.append((start, t))
                start = None
        runs.append(spans)
    return runs
