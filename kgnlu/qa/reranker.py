"""A cross-encoder reranker over (question, relation-path description) pairs.

The first stage scores every path from one embedding of the question (bi-encoder + trained MLP),
which sees little of word order: "What is a dog a kind of?" and "What is a kind of dog?" embed
alike. A cross-encoder reads the question and the path's description together, token against
token, so it can tell which side of "kind of" the topic stands on. It rescores the few best
(topic mention, path) pairs of the first stage.

The model is the packaged MiniLM cut to its first ``layers`` layers (initialised from the
pretrained weights, as DistilBERT initialises a student from its teacher) with a linear head on
the [CLS] vector. It is trained by ``kgnlu qa train`` on the generated questions: for each, the
gold path's description against the first stage's best wrong paths and the gold path with its
directions flipped (a listwise softmax), so direction is learned explicitly.

Inputs are ``[CLS] masked question [SEP] description [SEP]`` with the topic replaced by the same
placeholder on both sides: "[CLS] what is something a kind of? [SEP] what is the hypernym of
something? [SEP]".
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn

from kgnlu.errors import QAError

WEIGHTS_FILE = "reranker.safetensors"
MAX_PAIR_TOKENS = 64  # a masked question and one description fit easily


class PathReranker(nn.Module):
    def __init__(self, encoder, tokenizer, layers: int):
        """``encoder``: a kgnlu Encoder (the packaged MiniLM); only its first ``layers`` layers run."""
        super().__init__()
        if not 1 <= layers <= encoder.config.num_layers:
            raise QAError(f"reranker layers must be in 1..{encoder.config.num_layers}, got {layers}")
        self.encoder, self.tokenizer, self.layers = encoder, tokenizer, layers
        self.head = nn.Linear(encoder.config.hidden_size, 1)
        nn.init.zeros_(self.head.bias)
        nn.init.normal_(self.head.weight, std=0.02)

    @classmethod
    def from_minilm(cls, layers: int) -> PathReranker:
        from kgnlu.data.tokenizer import load_minilm_tokenizer
        from kgnlu.encoders import load_minilm

        return cls(load_minilm(), load_minilm_tokenizer(), layers)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                token_type_ids: torch.Tensor) -> torch.Tensor:
        """(B, S) token tensors of question/description pairs → (B,) relevance logits."""
        enc = self.encoder
        x, packing, mask = enc.embed(input_ids, attention_mask, token_type_ids, padding_free=False)  # (B, S, H)
        for index in range(self.layers):
            x, _ = enc.layers.run_layer(index, x, packing, mask)
        cls = packing.unpack(x)[:, 0]  # (B, H) the [CLS] vector
        return self.head(cls).squeeze(-1)

    def batch(self, questions: list[str], descriptions: list[str]):
        return self.tokenizer.encode_batch(questions, descriptions, max_length=MAX_PAIR_TOKENS)

    @torch.no_grad()
    def score(self, questions: list[str], descriptions: list[str], batch_size: int = 64) -> np.ndarray:
        """float32 [n] relevance logits of each (question, description) pair."""
        was = self.training
        self.eval()
        out = []
        for lo in range(0, len(questions), batch_size):
            b = self.batch(questions[lo:lo + batch_size], descriptions[lo:lo + batch_size])
            out.append(self(b.input_ids, b.attention_mask, b.token_type_ids).float().numpy())
        self.train(was)
        return np.concatenate(out) if out else np.zeros(0, dtype=np.float32)

    # ------------------------------------------------------------------ storage
    def trained_state(self) -> dict[str, torch.Tensor]:
        """The weights that differ from the packaged MiniLM: the layers it runs, their embeddings
        and the head (loading takes MiniLM and overwrites these)."""
        keep = ("embeddings.",) + tuple(f"layers.attention_blocks.{i}." for i in range(self.layers)) \
            + tuple(f"layers.ffn_blocks.{i}." for i in range(self.layers))
        state = {f"encoder.{k}": v for k, v in self.encoder.state_dict().items() if k.startswith(keep)}
        state.update({f"head.{k}": v for k, v in self.head.state_dict().items()})
        return {k: v.detach().contiguous() for k, v in state.items()}

    def save(self, folder: Path) -> None:
        from safetensors.torch import save_file

        save_file(self.trained_state(), str(Path(folder) / WEIGHTS_FILE))

    @classmethod
    def load(cls, folder: Path, layers: int) -> PathReranker:
        """MiniLM with the saved layers and head on top; a file that does not fit raises QAError."""
        from kgnlu.errors import CheckpointError
        from kgnlu.io import load_tensors

        path = Path(folder) / WEIGHTS_FILE
        model = cls.from_minilm(layers)
        try:
            state = load_tensors(path)
        except CheckpointError as err:
            raise QAError(f"{path} cannot be read ({err}); retrain the QA model") from None
        expected = model.trained_state()
        if set(state) != set(expected) or any(state[k].shape != expected[k].shape for k in expected):
            raise QAError(f"{path} does not hold a {layers}-layer MiniLM reranker; retrain the QA model")
        model.encoder.load_state_dict({k[len("encoder."):]: v for k, v in state.items() if k.startswith("encoder.")},
                                      strict=False)
        model.head.load_state_dict({k[len("head."):]: v for k, v in state.items() if k.startswith("head.")})
        return model.eval()


class RerankStage:
    """A trained reranker with the description of every path of its model's vocabulary (a plain
    object, not a submodule: the QA model's own weights file stays MiniLM-free)."""

    def __init__(self, reranker: PathReranker, descriptions: list[str]):
        self.reranker, self.descriptions = reranker, list(descriptions)

    def scores(self, questions: list[str], paths: list[int]) -> np.ndarray:
        """float32 [n]: relevance of each (masked question, path index) pair."""
        return self.reranker.score(questions, [self.descriptions[p] for p in paths])


def canonical_descriptions(kg, paths, profile) -> list[str]:
    """Each path's first description (:func:`~kgnlu.qa.path_text.describe_path`): what the reranker reads."""
    from kgnlu.qa.path_text import describe_path

    return [describe_path(kg, p, limit=1, profile=profile)[0] for p in paths]
