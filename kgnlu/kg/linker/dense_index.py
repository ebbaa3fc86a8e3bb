"""Entity embeddings and the dense (faiss) index, made with a kgnlu encoder (MiniLM by default).

- :class:`TextEncoder`: texts → L2-normalised mean-pooled embeddings (sentence-transformers'
  pooling: the average of the last hidden states over real tokens).
- :class:`EntityEmbeddings`: one row per entity ("label: text", sameAs clusters pooled), filled
  lazily for the candidates a document needs, or all at once with :meth:`fill`; saved as
  safetensors (float16 rows + a computed mask).
- :class:`DenseIndex`: a faiss inner-product index over the computed rows (flat below 100k rows,
  8-bit scalar-quantised above), for candidates no alias names. Saved with faiss's own format.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from kgnlu.errors import ConfigError
from kgnlu.io import atomic_path

FLAT_LIMIT = 100_000


class TextEncoder:
    """A kgnlu Encoder plus its tokenizer, pooled like sentence-transformers."""

    def __init__(self, encoder, tokenizer, *, max_length: int = 128, batch_size: int = 64,
                 device: str = "cpu"):
        import torch

        self.encoder = encoder.to(device).eval()
        self.tokenizer = tokenizer
        self.max_length, self.batch_size, self.device = max_length, batch_size, device
        self.dim = int(encoder.config.hidden_size)
        self._torch = torch

    @classmethod
    def minilm(cls, device: str = "cpu", **kwargs) -> TextEncoder:
        from kgnlu.data.tokenizer import load_minilm_tokenizer
        from kgnlu.encoders.pretrained import load_minilm

        return cls(load_minilm(), load_minilm_tokenizer(), device=device, **kwargs)

    @classmethod
    def from_pretrained(cls, path: str | Path, device: str = "cpu", **kwargs) -> TextEncoder:
        """An encoder folder that holds its tokenizer too (``tokenizer.json``), e.g. a ``kgnlu distill`` student."""
        from kgnlu.data.tokenizer import Tokenizer
        from kgnlu.encoders.encoder import Encoder

        return cls(Encoder.from_pretrained(path), Tokenizer.load(path), device=device, **kwargs)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """float32 [N, H], unit rows. Texts are sorted by length so batches pad little."""
        torch = self._torch
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        with torch.inference_mode():
            for lo in range(0, len(order), self.batch_size):
                idx = order[lo:lo + self.batch_size]
                batch = self.tokenizer.encode_batch([texts[i] or " " for i in idx],
                                                    max_length=self.max_length).to(self.device)
                hidden = self.encoder(batch.input_ids, batch.attention_mask).last_hidden_state
                mask = batch.attention_mask.unsqueeze(-1).to(hidden.dtype)  # (B, S, 1)
                pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)  # (B, H)
                pooled = torch.nn.functional.normalize(pooled.float(), dim=-1)
                out[idx] = pooled.cpu().numpy()
        return out


class EntityEmbeddings:
    """Rows for every entity; ``computed[e]`` says whether row e holds an embedding yet."""

    def __init__(self, vectors: np.ndarray, computed: np.ndarray, text_of: Callable[[int], str]):
        self.vectors = vectors  # float16 [E, H]
        self.computed = computed  # bool [E]
        self.text_of = text_of
        self.dirty = False

    @classmethod
    def empty(cls, num_entities: int, dim: int, text_of: Callable[[int], str]) -> EntityEmbeddings:
        return cls(np.zeros((num_entities, dim), dtype=np.float16), np.zeros(num_entities, bool), text_of)

    def ensure(self, ids: Sequence[int], encoder: TextEncoder) -> None:
        missing = sorted({int(e) for e in ids if not self.computed[int(e)]})
        if missing:
            self.vectors[missing] = encoder.encode([self.text_of(e) for e in missing]).astype(np.float16)
            self.computed[missing] = True
            self.dirty = True

    def fill(self, ids: Sequence[int], encoder: TextEncoder, chunk: int = 4096,
             on_progress: Callable[[int], None] | None = None) -> None:
        for lo in range(0, len(ids), chunk):
            self.ensure(ids[lo:lo + chunk], encoder)
            if on_progress is not None:
                on_progress(len(ids[lo:lo + chunk]))

    def get(self, ids: Sequence[int]) -> np.ndarray:
        return self.vectors[np.asarray(ids, dtype=np.int64)].astype(np.float32)

    def save(self, path: Path, identity: str | None = None) -> Path:
        """``identity``: the graph's (:func:`~kgnlu.kg.linker.cache.graph_identity`), recorded in the
        file's metadata so a later load or index rebuild can tell whether the rows still fit."""
        from safetensors.numpy import save_file

        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(path) as tmp:
            save_file({"embeddings": self.vectors, "computed": self.computed.astype(np.uint8)}, str(tmp),
                      metadata={"graph": identity} if identity else None)
        self.dirty = False
        return path

    @classmethod
    def load(cls, path: Path, num_entities: int, dim: int, text_of: Callable[[int], str],
             identity: str | None = None) -> EntityEmbeddings:
        from kgnlu.io import load_tensors
        from kgnlu.kg.linker.cache import embeddings_identity

        recorded = embeddings_identity(path)
        if identity is not None and recorded is not None and recorded != identity:
            raise ConfigError(f"{path} was computed for another build of the graph; it is recomputed")
        data = load_tensors(path, numpy=True)
        vectors, computed = data["embeddings"], data["computed"].astype(bool)
        if vectors.shape != (num_entities, dim):
            raise ConfigError(f"{path} holds {vectors.shape} embeddings, expected ({num_entities}, {dim}); "
                              "the graph or the encoder changed: delete the linker folder to rebuild")
        return cls(np.array(vectors), computed, text_of)


class DenseIndex:
    """faiss inner-product search over unit vectors; ``ids[row]`` is the entity of an index row."""

    def __init__(self, index, ids: np.ndarray):
        self.index, self.ids = index, ids

    @classmethod
    def build(cls, vectors: np.ndarray, ids: np.ndarray) -> DenseIndex:
        import faiss

        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        dim = vectors.shape[1]
        if len(vectors) > FLAT_LIMIT:
            index = faiss.IndexScalarQuantizer(dim, faiss.ScalarQuantizer.QT_8bit,
                                               faiss.METRIC_INNER_PRODUCT)
            index.train(vectors)
        else:
            index = faiss.IndexFlatIP(dim)
        index.add(vectors)
        return cls(index, np.asarray(ids, dtype=np.int32))

    def search(self, queries: np.ndarray, k: int) -> list[list[tuple[int, float]]]:
        if self.index.ntotal == 0:
            return [[] for _ in range(len(queries))]
        scores, rows = self.index.search(np.ascontiguousarray(queries, dtype=np.float32),
                                         min(k, self.index.ntotal))
        return [[(int(self.ids[r]), float(s)) for r, s in zip(rr, ss, strict=True) if r >= 0]
                for rr, ss in zip(rows.tolist(), scores.tolist(), strict=True)]

    def save(self, folder: Path) -> list[Path]:
        import faiss

        with atomic_path(folder / "dense.faiss") as tmp:
            faiss.write_index(self.index, str(tmp))
        with atomic_path(folder / "dense_ids.npy") as tmp:
            with open(tmp, "wb") as f:
                np.save(f, self.ids)
        return [folder / "dense.faiss", folder / "dense_ids.npy"]

    @classmethod
    def load(cls, folder: Path) -> DenseIndex:
        import faiss

        return cls(faiss.read_index(str(folder / "dense.faiss")), np.load(folder / "dense_ids.npy"))
