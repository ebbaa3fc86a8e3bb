"""A gloss/context bi-encoder for word senses (BEM: Blevins & Zettlemoyer, ACL 2020).

Two encoders start from the packaged MiniLM: the **context encoder** reads the sentence and
represents the target word as the mean of its wordpieces' last hidden states (located by character
offsets); the **gloss encoder** reads the definition and mean-pools it (no lemma: every
candidate holds the target lemma, but a synset's first lemma — its label — is often another word,
and a label equal to the target word would favour its synset for that reason alone). The score of a
sense is the cosine of the two vectors (training multiplies it by ``scale`` inside a softmax over
the lemma's senses)::

    model = SenseModel.from_pretrained(folder)            # or SenseModel.minilm() (untrained)
    scorer = model.scorer(gloss_of)                       # gloss_of(entity) -> "sloping land ..."
    scorer.score([("They sat on the bank.", 15, 19, ["wn:09213565-n", "wn:08420278-n"])])
    # [array([0.61, 0.12], dtype=float32)]

Saved as ``context/`` and ``gloss/`` (Hugging Face encoder folders, safetensors), ``tokenizer/``,
and ``sense_model.json``; written atomically, read without pickle. Training: :mod:`.sense_training`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Hashable, Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import numpy as np

from kgnlu.errors import CheckpointError, ConfigError

CONFIG_FILE = "sense_model.json"
FORMAT = "kgnlu-sense-model/1"
SenseItem = tuple[str, int, int, Sequence[Hashable]]  # (text, start, end, candidate ids)


def default_sense_model_path() -> Path:
    """``$KGNLU_HOME/models/senses``: where ``kgnlu train-senses`` writes by default."""
    from kgnlu.kg.build import kgnlu_home

    return kgnlu_home() / "models" / "senses"


@dataclass
class SenseConfig:
    context_max_length: int = 64  # wordpieces of a context window; WordNet examples average ~12
    gloss_max_length: int = 32  # WordNet definitions average ~11 words
    context_chars: int = 200  # characters kept either side of the target before tokenising
    trainable_layers: int = 2  # top layers of the context encoder that training updates (CPU budget)
    gloss_trainable_layers: int = 1  # ... of the gloss encoder (it reads ~6 glosses per context)
    scale: float = 20.0  # cosine → logit temperature in the training softmax
    trained_examples: int = 0  # provenance, written by training
    heldout: str = "sha256(synset id) % 100 < 10 excluded"  # provenance of the split

    @classmethod
    def from_dict(cls, data: dict) -> SenseConfig:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    def __post_init__(self):
        if self.context_max_length < 8 or self.gloss_max_length < 4:
            raise ConfigError("sense model max lengths must be at least 8 (context) and 4 (gloss)")


class SenseModel:
    """Context encoder + gloss encoder + tokenizer; see the module doc."""

    def __init__(self, context, gloss, tokenizer, config: SenseConfig | None = None, device: str = "cpu"):
        import torch

        self.context, self.gloss = context.to(device), gloss.to(device)
        self.tokenizer = tokenizer
        self.config = config or SenseConfig()
        self.device = device
        self.dim = int(context.config.hidden_size)
        self._torch = torch
        self.eval()

    # ------------------------------------------------------------------ construction
    @classmethod
    def minilm(cls, config: SenseConfig | None = None, device: str = "cpu") -> SenseModel:
        """Both encoders initialised from the packaged all-MiniLM-L6-v2 (the untrained baseline)."""
        from kgnlu.data.tokenizer import load_minilm_tokenizer
        from kgnlu.encoders.pretrained import load_minilm

        return cls(load_minilm(), load_minilm(), load_minilm_tokenizer(), config, device)

    def save_pretrained(self, folder: str | Path) -> Path:
        from kgnlu.io import atomic_directory

        folder = Path(folder)
        with atomic_directory(folder) as staging:
            self.context.save_pretrained(staging / "context")
            self.gloss.save_pretrained(staging / "gloss")
            self.tokenizer.save(staging / "tokenizer")
            (staging / CONFIG_FILE).write_text(json.dumps({"format": FORMAT, **asdict(self.config)}, indent=2),
                                               encoding="utf-8")
        return folder

    @classmethod
    def from_pretrained(cls, folder: str | Path, device: str = "cpu") -> SenseModel:
        """A folder written by :meth:`save_pretrained`; a missing or damaged file is an E-coded error."""
        from kgnlu.data.tokenizer import Tokenizer
        from kgnlu.encoders.encoder import Encoder

        folder = Path(folder).expanduser()
        path = folder / CONFIG_FILE
        if not path.is_file():
            raise CheckpointError(f"{folder} is not a sense model (no {CONFIG_FILE}); train one with "
                                  "`kgnlu train-senses --out FOLDER`")
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as err:
            raise CheckpointError(f"{path} is unreadable ({err}); train the sense model again") from None
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise CheckpointError(f"{path} is not a {FORMAT} config; train the sense model again")
        try:
            config = SenseConfig.from_dict(data)
        except (TypeError, ValueError) as err:
            raise CheckpointError(f"{path} holds an invalid sense config ({err})") from None
        context = Encoder.from_pretrained(folder / "context")
        gloss = Encoder.from_pretrained(folder / "gloss")
        if context.config.hidden_size != gloss.config.hidden_size:
            raise CheckpointError(f"{folder}: context and gloss encoders differ in width")
        return cls(context, gloss, Tokenizer.load(folder / "tokenizer"), config, device)

    # ------------------------------------------------------------------ modes
    def eval(self) -> SenseModel:
        self.context.eval()
        self.gloss.eval()
        return self

    def train(self) -> SenseModel:
        self.context.train()
        self.gloss.train()
        return self

    def freeze_lower_layers(self) -> list:
        """Freeze embeddings and all but the top ``trainable_layers`` (context) and
        ``gloss_trainable_layers`` (gloss) layers; returns the trainable parameters."""
        out = []
        for enc in (self.context, self.gloss):
            n = enc.config.num_layers
            keep = self._trainable(enc)
            trainable = {id(p) for i in range(n - keep, n) for block in enc.layers.blocks_of_layer(i)
                         for p in block.parameters()}
            for p in enc.parameters():
                p.requires_grad_(id(p) in trainable)
                if id(p) in trainable:
                    out.append(p)
        return out

    def _trainable(self, encoder) -> int:
        k = self.config.trainable_layers if encoder is self.context else self.config.gloss_trainable_layers
        return max(0, min(k, encoder.config.num_layers))

    # ------------------------------------------------------------------ encoding (torch)
    def _hidden(self, encoder, ids, mask):
        """(B, S) → (B, S, H) last hidden states; layers below the trainable ones run without grad."""
        torch = self._torch
        n = encoder.config.num_layers
        keep = self._trainable(encoder) if torch.is_grad_enabled() else n
        with torch.no_grad():
            x, packing, amask = encoder.embed(ids, mask)
            for i in range(n - keep):
                x, _ = encoder.layers.run_layer(i, x, packing, amask)
        if keep and torch.is_grad_enabled():
            x = x.detach()
        for i in range(n - keep, n):
            x, _ = encoder.layers.run_layer(i, x, packing, amask)
        return encoder.finish(x, packing, x, [], []).last_hidden_state

    def context_vectors(self, texts: Sequence[str], spans: Sequence[tuple[int, int]]):
        """Unit vectors (N, H) of the target words: mean of the wordpieces overlapping each span."""
        torch = self._torch
        cut = [_window(t, s, e, self.config.context_chars) for t, (s, e) in zip(texts, spans, strict=True)]
        batch, offsets = self.tokenizer.encode_batch_with_offsets([c[0] or " " for c in cut],
                                                                  max_length=self.config.context_max_length)
        batch = batch.to(self.device)
        sel = torch.zeros(batch.input_ids.shape, dtype=torch.float32)
        for b, (_, s, e) in enumerate(cut):
            hit = [t for t, ((a, z), seq) in enumerate(zip(offsets.offsets[b], offsets.sequence_ids[b], strict=True))
                   if seq == 0 and z > s and a < e]
            if hit:
                sel[b, hit] = 1.0
            else:  # the target was cut off (or is whitespace): the whole window stands in
                sel[b] = batch.attention_mask[b].float().cpu()
        hidden = self._hidden(self.context, batch.input_ids, batch.attention_mask)  # (B, S, H)
        sel = sel.to(hidden.device).unsqueeze(-1)
        pooled = (hidden * sel).sum(1) / sel.sum(1).clamp(min=1.0)
        return torch.nn.functional.normalize(pooled.float(), dim=-1)

    def gloss_vectors(self, texts: Sequence[str]):
        """Unit vectors (N, H): mean-pooled gloss encodings."""
        torch = self._torch
        batch = self.tokenizer.encode_batch([t or " " for t in texts],
                                            max_length=self.config.gloss_max_length).to(self.device)
        hidden = self._hidden(self.gloss, batch.input_ids, batch.attention_mask)
        mask = batch.attention_mask.unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)
        return torch.nn.functional.normalize(pooled.float(), dim=-1)

    # ------------------------------------------------------------------ inference (numpy)
    def encode_contexts(self, texts: Sequence[str], spans: Sequence[tuple[int, int]],
                        batch_size: int = 64) -> np.ndarray:
        return self._batched(lambda idx: self.context_vectors([texts[i] for i in idx], [spans[i] for i in idx]),
                             [len(t) for t in texts], batch_size)

    def encode_glosses(self, texts: Sequence[str], batch_size: int = 128) -> np.ndarray:
        return self._batched(lambda idx: self.gloss_vectors([texts[i] for i in idx]),
                             [len(t) for t in texts], batch_size)

    def _batched(self, fn, lengths: list[int], batch_size: int) -> np.ndarray:
        out = np.zeros((len(lengths), self.dim), dtype=np.float32)
        order = sorted(range(len(lengths)), key=lengths.__getitem__)  # similar lengths pad little
        self.eval()
        with self._torch.inference_mode():
            for lo in range(0, len(order), batch_size):
                idx = order[lo:lo + batch_size]
                out[idx] = fn(idx).cpu().numpy()
        return out

    def scorer(self, gloss_of: Callable[[Hashable], str]) -> SenseScorer:
        return SenseScorer(self, gloss_of)


class SenseScorer:
    """Scores (text, start, end, candidates) items; gloss vectors are computed once per candidate
    and kept (``gloss_of(candidate)`` gives the gloss text the model reads)."""

    def __init__(self, model: SenseModel, gloss_of: Callable[[Hashable], str], max_cache: int = 500_000):
        self.model, self.gloss_of, self.max_cache = model, gloss_of, max_cache
        self.cache: dict[Hashable, np.ndarray] = {}

    def gloss_matrix(self, ids: Sequence[Hashable]) -> np.ndarray:
        missing = list(dict.fromkeys(i for i in ids if i not in self.cache))
        fresh = dict(zip(missing, self.model.encode_glosses([self.gloss_of(i) for i in missing]), strict=True)) \
            if missing else {}
        rows = [self.cache.get(i, fresh.get(i)) for i in ids]
        if len(self.cache) + len(fresh) <= self.max_cache:
            self.cache.update(fresh)
        return np.stack(rows) if rows else np.zeros((0, self.model.dim), np.float32)

    def score(self, items: Sequence[SenseItem]) -> list[np.ndarray]:
        """Per item, the cosine of its context vector with each candidate's gloss vector."""
        if not items:
            return []
        ctx = self.model.encode_contexts([it[0] for it in items], [(it[1], it[2]) for it in items])
        self.gloss_matrix([c for it in items for c in it[3]])  # one batched pass for new glosses
        return [self.gloss_matrix(list(it[3])) @ v if len(it[3]) else np.zeros(0, np.float32)
                for it, v in zip(items, ctx, strict=True)]


class LinkerSenses:
    """The sense model as a linker feature: every mention with a WordNet synset (``wn:``) among its
    candidates gets ``MentionItem.sense`` = the cosine per candidate. Other candidates of such a
    mention are scored through their own text; mentions without synsets are left alone."""

    def __init__(self, model: SenseModel | str | Path, kg, texts: Sequence[str], device: str = "cpu"):
        from kgnlu.kg.sources.wordnet_format import split_gloss

        if not isinstance(model, SenseModel):
            model = SenseModel.from_pretrained(model, device=device)
        self.model = model
        ids = kg.entity_ids()
        self.synset = [i.startswith("wn:") for i in ids]

        def gloss_of(e: int) -> str:  # texts[e] is "label: text" (the linker's entity text)
            label = kg.entity_label(e)
            body = texts[e]
            body = body[len(label) + 2:] if body.startswith(label + ": ") else body
            return gloss_text(split_gloss(body)[0] if self.synset[e] else body, label)

        self.scorer = model.scorer(gloss_of)

    def features(self, docs, per_doc) -> None:
        todo, items = [], []
        for doc, mention_items in zip(docs, per_doc, strict=True):
            text = doc.user_data.get("kgnlu_text", doc.text)
            for it in mention_items:
                if it.candidates and any(self.synset[c.entity] for c in it.candidates):
                    todo.append((text, it.mention.start, it.mention.end, [c.entity for c in it.candidates]))
                    items.append(it)
        for it, scores in zip(items, self.scorer.score(todo), strict=True):
            it.sense = scores.tolist()


def gloss_text(definition: str, label: str = "") -> str:
    """What the gloss encoder reads: the definition (examples never included); the label only
    when there is no definition."""
    return definition or label


def _window(text: str, start: int, end: int, chars: int) -> tuple[str, int, int]:
    """``text`` cut to ``chars`` characters either side of [start, end), offsets shifted."""
    if not 0 <= start <= end <= len(text):
        raise ConfigError(f"span ({start}, {end}) is outside the text (length {len(text)})")
    lo = max(0, start - chars)
    return text[lo:end + chars], start - lo, end - lo
