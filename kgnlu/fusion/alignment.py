"""Entity alignment: linker output (character spans) → wordpiece spans and padded entity tensors.

    aligner = Aligner(tokenizer, entity_row=graph_rows, max_length=128, max_entities=16, max_candidates=8)
    tokens, entities = aligner(texts, links_per_text)      # TokenBatch, EntityInputs
    encoder(tokens.input_ids, tokens.attention_mask, entities=entities)

Rules (they never attach an entity to the wrong tokens):

- A link's wordpiece span is exactly the tokens of the first segment whose character offsets
  overlap its character span ``[start, end)`` (tokens are contiguous, so this is one [s, e) range).
  A link that overlaps no token (only whitespace) is dropped.
- A link that truncation cut — any token it overlaps in the untruncated text was dropped — is
  dropped whole, never shifted onto the tokens that remain.
- A link whose entity has no row in the table (``entity_row`` gives None) is dropped; candidates
  without a row are dropped; the linked entity is always among its candidates (the linker's own
  output has it there; JSON without candidates gets it as the only one).
- Per text the first ``max_entities`` kept links in text order are used; the batch pads to its
  largest count M (M may be 0) with ``entity_mask`` False, id 0, span (0, 0), weight 0.
- Links refer to ``texts`` (the first segment); second segments (``pairs``) carry no links.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch

from kgnlu.data.tokenizer import TokenBatch, Tokenizer
from kgnlu.errors import ConfigError, FusionError

#: EntityInputs field → batch key suffix (the batch key is prefix + suffix, e.g. "entity_ids")
BATCH_KEYS = {"entity_ids": "ids", "entity_mask": "mask", "spans": "spans", "weights": "weights",
              "candidate_ids": "candidate_ids", "candidate_scores": "candidate_scores",
              "candidate_mask": "candidate_mask"}


@dataclass
class EntityInputs:
    """Entity tensors beside a token batch (B rows, M entity slots, C candidate slots).

    ``entity_ids`` (B, M) long: rows of the entity table, 0 where ``entity_mask`` is False.
    ``entity_mask`` (B, M) bool: True at a linked entity.
    ``spans`` (B, M, 2) long: wordpiece [start, end) of the mention in the token sequence.
    ``weights`` (B, M) float: the linker's confidence in the link.
    ``candidate_ids`` (B, M, C) long, ``candidate_scores`` (B, M, C) float, ``candidate_mask``
    (B, M, C) bool: each mention's candidate entities (best first) with the linker's scores.
    """

    entity_ids: torch.Tensor
    entity_mask: torch.Tensor
    spans: torch.Tensor
    weights: torch.Tensor
    candidate_ids: torch.Tensor
    candidate_scores: torch.Tensor
    candidate_mask: torch.Tensor

    @property
    def num_entities(self) -> int:
        """M, the padded number of entity slots per row."""
        return self.entity_ids.shape[1]

    def to(self, device: torch.device | str) -> EntityInputs:
        return EntityInputs(**{f.name: getattr(self, f.name).to(device) for f in dataclasses.fields(self)})

    def replace(self, **changes: torch.Tensor) -> EntityInputs:
        return dataclasses.replace(self, **changes)

    def to_batch(self, prefix: str = "entity_") -> dict[str, torch.Tensor]:
        """The tensors as batch entries: ``entity_ids``, ``entity_mask``, ``entity_spans``,
        ``entity_weights``, ``entity_candidate_ids``, ``entity_candidate_scores``, ``entity_candidate_mask``."""
        return {prefix + key: getattr(self, name) for name, key in BATCH_KEYS.items()}

    @classmethod
    def from_batch(cls, batch: Mapping[str, torch.Tensor], prefix: str = "entity_") -> EntityInputs:
        """Inverse of :meth:`to_batch`; the candidate keys may be absent (then C = 1: the entity itself)."""
        missing = [prefix + key for key in ("ids", "mask", "spans") if prefix + key not in batch]
        if missing:
            raise FusionError(f"the batch lacks entity fields {missing} (has {sorted(batch)}); build it with "
                              "kgnlu.fusion.Aligner or EntityInputs.to_batch")
        ids, mask = batch[prefix + "ids"].long(), batch[prefix + "mask"].bool()
        weights = batch.get(prefix + "weights")
        if weights is None:
            weights = mask.float()
        candidates = batch.get(prefix + "candidate_ids")
        if candidates is None:  # no candidate sets: each mention's only candidate is its entity
            candidates, scores, candidate_mask = ids[..., None], weights[..., None], mask[..., None]
        else:
            scores = batch[prefix + "candidate_scores"].float()
            candidate_mask = batch[prefix + "candidate_mask"].bool()
        return cls(ids, mask, batch[prefix + "spans"].long(), weights.float(), candidates.long(), scores,
                   candidate_mask)

    @classmethod
    def empty(cls, batch_size: int, device: torch.device | str = "cpu") -> EntityInputs:
        """No entity in any row (M = 0, C = 1)."""
        long = dict(dtype=torch.long, device=device)
        return cls(torch.zeros(batch_size, 0, **long), torch.zeros(batch_size, 0, dtype=torch.bool, device=device),
                   torch.zeros(batch_size, 0, 2, **long), torch.zeros(batch_size, 0, device=device),
                   torch.zeros(batch_size, 0, 1, **long), torch.zeros(batch_size, 0, 1, device=device),
                   torch.zeros(batch_size, 0, 1, dtype=torch.bool, device=device))

    def validate(self, seq_len: int, num_rows: int) -> None:
        """Raise :class:`FusionError` when the tensors cannot belong to a (B, seq_len) batch."""
        b, m = self.entity_ids.shape
        if self.spans.shape != (b, m, 2) or self.entity_mask.shape != (b, m) or self.weights.shape != (b, m):
            raise FusionError(f"entity tensors disagree: ids {tuple(self.entity_ids.shape)}, mask "
                              f"{tuple(self.entity_mask.shape)}, spans {tuple(self.spans.shape)}, weights "
                              f"{tuple(self.weights.shape)}; build them with kgnlu.fusion.Aligner")
        if self.candidate_ids.shape[:2] != (b, m) or self.candidate_ids.shape != self.candidate_mask.shape:
            raise FusionError(f"candidate tensors {tuple(self.candidate_ids.shape)} do not match entities ({b}, {m})")
        if self.entity_mask.any():
            spans = self.spans[self.entity_mask]  # (K, 2)
            if bool((spans[:, 0] < 0).any() or (spans[:, 1] > seq_len).any() or (spans[:, 1] <= spans[:, 0]).any()):
                raise FusionError(f"an entity span lies outside the {seq_len} tokens or is empty; align links "
                                  "with the same tokenizer and max_length as the token batch")
        for name in ("entity_ids", "candidate_ids"):
            ids = getattr(self, name)
            if ids.numel() and (int(ids.min()) < 0 or int(ids.max()) >= num_rows):
                raise FusionError(f"{name} must be rows of the {num_rows}-row entity table; got range "
                                  f"[{int(ids.min())}, {int(ids.max())}]; align with the same table")


@dataclass(frozen=True)
class _Link:
    start: int
    end: int
    entity: str
    score: float
    candidates: tuple[tuple[str, float], ...]


def as_link(link: Any) -> _Link:
    """A :class:`kgnlu.kg.linker.Link` or its JSON dict → the fields alignment reads."""
    get = link.get if isinstance(link, Mapping) else (lambda key, default=None: getattr(link, key, default))
    try:
        candidates = tuple((c["entity"], float(c["score"])) if isinstance(c, Mapping) else (c.entity, float(c.score))
                           for c in get("candidates", ()) or ())
        return _Link(int(get("start")), int(get("end")), str(get("entity")), float(get("score", 1.0)), candidates)
    except (TypeError, KeyError, ValueError) as err:
        raise FusionError(f"cannot read link {link!r} ({err}); a link needs start, end, entity, score "
                          "and optionally candidates [{entity, score}]") from None


def token_span(offsets: Sequence[tuple[int, int]], sequence_ids: Sequence[int | None], start: int, end: int
               ) -> tuple[int, int] | None:
    """[first, last + 1) of the segment-0 tokens whose characters overlap [start, end); None if none do."""
    hits = [t for t, ((s, e), seq) in enumerate(zip(offsets, sequence_ids, strict=True))
            if seq == 0 and s < end and e > start]
    return (hits[0], hits[-1] + 1) if hits else None


class Aligner:
    """Texts + their links → (:class:`TokenBatch`, :class:`EntityInputs`); see the module docstring."""

    def __init__(self, tokenizer: Tokenizer, entity_row: Mapping[str, int] | Callable[[str], int | None],
                 max_length: int = 512, max_entities: int = 32, max_candidates: int = 8):
        if max_entities < 1 or max_candidates < 1 or (max_length is not None and max_length < 2):
            raise ConfigError("Aligner needs max_entities >= 1, max_candidates >= 1 and max_length >= 2")
        self.tokenizer = tokenizer
        self.row = entity_row.get if isinstance(entity_row, Mapping) else entity_row
        self.max_length, self.max_entities, self.max_candidates = max_length, max_entities, max_candidates

    def __call__(self, texts: Sequence[str], links_per_text: Sequence[Sequence[Any]],
                 pairs: Sequence[str] | None = None) -> tuple[TokenBatch, EntityInputs]:
        if len(links_per_text) != len(texts):
            raise FusionError(f"{len(texts)} texts but {len(links_per_text)} link lists; give one list per text")
        tokens, offsets = self.tokenizer.encode_batch_with_offsets(texts, pairs, self.max_length)
        truncated = [b for b, cut in enumerate(offsets.truncated) if cut]
        full = {}
        if truncated:  # the untruncated tokenization tells which links lost tokens to truncation
            _, whole = self.tokenizer.encode_batch_with_offsets(
                [texts[b] for b in truncated], None if pairs is None else [pairs[b] for b in truncated], None)
            full = {b: (whole.offsets[i], whole.sequence_ids[i]) for i, b in enumerate(truncated)}
        rows = [self._align_row(texts[b], links_per_text[b], offsets.offsets[b], offsets.sequence_ids[b], full.get(b))
                for b in range(len(texts))]
        return tokens, self._pad(rows)

    def _align_row(self, text: str, links: Sequence[Any], offsets, sequence_ids, full) -> list[tuple]:
        kept = []
        for link in sorted((as_link(x) for x in links), key=lambda x: (x.start, x.end)):
            if not 0 <= link.start < link.end <= len(text):
                raise FusionError(f"link [{link.start}, {link.end}) for {link.entity!r} lies outside its "
                                  f"{len(text)}-character text; links must come from this very text")
            row = self.row(link.entity)
            if row is None:
                continue
            span = token_span(offsets, sequence_ids, link.start, link.end)
            if span is None:
                continue
            if full is not None:  # cut by truncation: it overlapped more tokens before truncating
                whole = token_span(*full, link.start, link.end)
                if whole is None or whole[1] - whole[0] != span[1] - span[0]:
                    continue
            candidates, seen = [], set()
            for entity, score in link.candidates:  # best first, as the linker ranks them; unknown rows dropped
                if (r := self.row(entity)) is not None and r not in seen:
                    seen.add(r)
                    candidates.append((int(r), score))
            candidates = candidates[: self.max_candidates]
            if all(r != row for r, _ in candidates):  # the linked entity is always a candidate
                candidates = [(row, link.score), *candidates][: self.max_candidates]
            kept.append((int(row), span, link.score, candidates))
            if len(kept) == self.max_entities:
                break
        return kept

    @staticmethod
    def _pad(rows: list[list[tuple]]) -> EntityInputs:
        b = len(rows)
        m = max((len(r) for r in rows), default=0)
        c = max((len(cands) for r in rows for *_, cands in r), default=1)
        out = EntityInputs(
            entity_ids=torch.zeros(b, m, dtype=torch.long), entity_mask=torch.zeros(b, m, dtype=torch.bool),
            spans=torch.zeros(b, m, 2, dtype=torch.long), weights=torch.zeros(b, m),
            candidate_ids=torch.zeros(b, m, c, dtype=torch.long), candidate_scores=torch.zeros(b, m, c),
            candidate_mask=torch.zeros(b, m, c, dtype=torch.bool))
        for i, row in enumerate(rows):
            for j, (entity, (start, end), score, candidates) in enumerate(row):
                out.entity_ids[i, j], out.entity_mask[i, j], out.weights[i, j] = entity, True, score
                out.spans[i, j, 0], out.spans[i, j, 1] = start, end
                for k, (candidate, candidate_score) in enumerate(candidates):
                    out.candidate_ids[i, j, k], out.candidate_scores[i, j, k] = candidate, candidate_score
                    out.candidate_mask[i, j, k] = True
        return out
