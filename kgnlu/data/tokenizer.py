"""Tokenizers: the packaged MiniLM WordPiece, and WordPiece / GPT-2 byte-level BPE trained here.

All are Hugging Face ``tokenizers`` pipelines (Rust, fast) wrapped in :class:`Tokenizer`, which
knows its special tokens and turns text batches into padded tensors. A saved tokenizer is a folder
with ``tokenizer.json`` (opens with ``tokenizers.Tokenizer.from_file`` and, through
``tokenizer_config.json``, with ``transformers.AutoTokenizer``) and ``kgnlu_tokenizer.json``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
from tokenizers import Tokenizer as Backend
from tokenizers import decoders, models, normalizers, pre_tokenizers, processors, trainers

from kgnlu.errors import CheckpointError, ConfigError

KINDS = ("wordpiece", "byte_bpe")
META_FILE = "kgnlu_tokenizer.json"
BERT_SPECIAL = {"pad": "[PAD]", "unk": "[UNK]", "cls": "[CLS]", "sep": "[SEP]", "mask": "[MASK]"}
GPT2_EOS = "<|endoftext|>"
GPT2_SPECIAL = {"eos": GPT2_EOS, "bos": GPT2_EOS, "unk": GPT2_EOS, "pad": GPT2_EOS}  # GPT-2 pads with eos


@dataclass
class TokenBatch:
    """Padded tensors for an encoder: all (B, S) int64; attention_mask is 1 at real tokens."""

    input_ids: torch.Tensor
    attention_mask: torch.Tensor
    token_type_ids: torch.Tensor

    def to(self, device: torch.device | str) -> TokenBatch:
        return TokenBatch(self.input_ids.to(device), self.attention_mask.to(device), self.token_type_ids.to(device))


@dataclass
class TokenOffsets:
    """Per row of a :class:`TokenBatch`: ``offsets[b][t]`` the (start, end) characters of token t in its
    segment's text, ``sequence_ids[b][t]`` 0 or 1 for the segment (None for special and pad tokens), and
    ``truncated[b]`` whether truncation dropped tokens from that row."""

    offsets: list[list[tuple[int, int]]]
    sequence_ids: list[list[int | None]]
    truncated: list[bool]


class Tokenizer:
    """A ``tokenizers`` pipeline plus its role tokens (pad, unk, cls, sep, mask / bos, eos)."""

    def __init__(self, backend: Backend, kind: str, special: dict[str, str]):
        if kind not in KINDS:
            raise ConfigError(f"tokenizer kind must be one of {', '.join(KINDS)}, got {kind!r}")
        missing = [token for token in special.values() if backend.token_to_id(token) is None]
        if missing:
            raise ConfigError(f"special tokens {missing} are not in the vocabulary")
        self.backend, self.kind, self.special = backend, kind, dict(special)
        self.backend.no_padding()
        self.backend.no_truncation()

    # ------------------------------------------------------------------ vocabulary
    @property
    def vocab_size(self) -> int:
        return self.backend.get_vocab_size(with_added_tokens=True)

    def token_id(self, role: str) -> int | None:
        """Id of the special token in ``role`` ("pad", "mask", "cls", "sep", "eos", ...), None if absent."""
        token = self.special.get(role)
        return None if token is None else self.backend.token_to_id(token)

    @property
    def pad_id(self) -> int:
        return self.token_id("pad")

    @property
    def mask_id(self) -> int | None:
        return self.token_id("mask")

    def special_ids(self) -> set[int]:
        return {self.backend.token_to_id(token) for token in self.special.values()}

    # ------------------------------------------------------------------ encoding
    def encode(self, text: str, pair: str | None = None, add_special_tokens: bool = True) -> list[int]:
        return self.backend.encode(text, pair, add_special_tokens=add_special_tokens).ids

    def encode_batch(self, texts: Sequence[str], pairs: Sequence[str] | None = None, max_length: int | None = 512,
                     add_special_tokens: bool = True) -> TokenBatch:
        """Texts (and optional second segments) → padded to the batch's longest, truncated to max_length."""
        return self._to_batch(self._encodings(texts, pairs, max_length, add_special_tokens))

    def encode_batch_with_offsets(self, texts: Sequence[str], pairs: Sequence[str] | None = None,
                                  max_length: int | None = 512, add_special_tokens: bool = True
                                  ) -> tuple[TokenBatch, TokenOffsets]:
        """:meth:`encode_batch` plus, per row, each token's character span and which segment it came from
        (what entity alignment needs to map character spans onto tokens)."""
        encodings = self._encodings(texts, pairs, max_length, add_special_tokens)
        offsets = TokenOffsets(
            offsets=[[tuple(span) for span in e.offsets] for e in encodings],
            sequence_ids=[list(e.sequence_ids) for e in encodings],
            truncated=[bool(e.overflowing) for e in encodings])
        return self._to_batch(encodings), offsets

    def _encodings(self, texts: Sequence[str], pairs: Sequence[str] | None, max_length: int | None,
                   add_special_tokens: bool) -> list:
        if pairs is not None and len(pairs) != len(texts):
            raise ConfigError(f"{len(texts)} texts but {len(pairs)} pairs")
        if max_length is not None:
            self.backend.enable_truncation(max_length)
        self.backend.enable_padding(pad_id=self.pad_id, pad_token=self.special["pad"])
        try:
            inputs = list(texts) if pairs is None else list(zip(texts, pairs, strict=True))
            return self.backend.encode_batch(inputs, add_special_tokens=add_special_tokens)
        finally:
            self.backend.no_padding()
            self.backend.no_truncation()

    @staticmethod
    def _to_batch(encodings: list) -> TokenBatch:
        return TokenBatch(
            input_ids=torch.tensor([e.ids for e in encodings], dtype=torch.long),
            attention_mask=torch.tensor([e.attention_mask for e in encodings], dtype=torch.long),
            token_type_ids=torch.tensor([e.type_ids for e in encodings], dtype=torch.long))

    def decode(self, ids: Iterable[int], skip_special_tokens: bool = True) -> str:
        return self.backend.decode(list(ids), skip_special_tokens=skip_special_tokens)

    # ------------------------------------------------------------------ files
    def save(self, folder: str | Path) -> Path:
        """Write tokenizer.json, tokenizer_config.json (for AutoTokenizer) and kgnlu_tokenizer.json, atomically."""
        from kgnlu.io import atomic_directory

        target = Path(folder)
        with atomic_directory(target) as staging:
            self.backend.save(str(staging / "tokenizer.json"))
            hf_config = {"tokenizer_class": "PreTrainedTokenizerFast",
                         **{f"{role}_token": token for role, token in self.special.items()}}
            (staging / "tokenizer_config.json").write_text(json.dumps(hf_config, indent=2) + "\n", encoding="utf-8")
            meta = {"kind": self.kind, "special": self.special}
            (staging / META_FILE).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
        return target

    @classmethod
    def load(cls, folder: str | Path) -> Tokenizer:
        """Load a folder written by :meth:`save`, or an HF BERT-style folder with tokenizer.json."""
        folder = Path(folder)
        if not (folder / "tokenizer.json").is_file():
            raise CheckpointError(f"{folder} has no tokenizer.json; save one with Tokenizer.save or train one")
        backend = Backend.from_file(str(folder / "tokenizer.json"))
        if (folder / META_FILE).is_file():
            meta = json.loads((folder / META_FILE).read_text(encoding="utf-8"))
            return cls(backend, meta["kind"], meta["special"])
        model_type = json.loads((folder / "tokenizer.json").read_text(encoding="utf-8"))["model"]["type"]
        if model_type == "WordPiece":
            return cls(backend, "wordpiece", BERT_SPECIAL)
        if model_type == "BPE" and backend.token_to_id(GPT2_EOS) is not None:
            return cls(backend, "byte_bpe", GPT2_SPECIAL)
        raise CheckpointError(f"{folder / 'tokenizer.json'} is a {model_type} tokenizer without {META_FILE}; "
                              "kgnlu cannot tell its special tokens")


# ---------------------------------------------------------------------- packaged and trained
def load_minilm_tokenizer() -> Tokenizer:
    """The packaged all-MiniLM-L6-v2 uncased WordPiece (30,522 tokens), after verifying vocab.txt."""
    from kgnlu.data.minilm import minilm_path

    return Tokenizer(Backend.from_file(str(minilm_path() / "tokenizer.json")), "wordpiece", BERT_SPECIAL)


def train_wordpiece(texts: Iterable[str], vocab_size: int = 30_522, lowercase: bool = True,
                    min_frequency: int = 2) -> Tokenizer:
    """BERT's pipeline: clean + (lowercase) + split on whitespace/punctuation, WordPiece with ## continuations,
    [CLS] A [SEP] (B [SEP]) with segment ids 0/1."""
    specials = list(BERT_SPECIAL.values())
    backend = Backend(models.WordPiece(unk_token=BERT_SPECIAL["unk"]))
    backend.normalizer = normalizers.BertNormalizer(clean_text=True, handle_chinese_chars=True,
                                                    strip_accents=lowercase, lowercase=lowercase)
    backend.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    backend.decoder = decoders.WordPiece(prefix="##")
    trainer = trainers.WordPieceTrainer(vocab_size=vocab_size, min_frequency=min_frequency,
                                        special_tokens=specials, continuing_subword_prefix="##",
                                        show_progress=False)
    backend.train_from_iterator(texts, trainer=trainer)
    cls_id, sep_id = backend.token_to_id("[CLS]"), backend.token_to_id("[SEP]")
    backend.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", cls_id), ("[SEP]", sep_id)])
    return Tokenizer(backend, "wordpiece", BERT_SPECIAL)


def train_byte_level_bpe(texts: Iterable[str], vocab_size: int = 50_257, min_frequency: int = 2) -> Tokenizer:
    """GPT-2's pipeline: text as UTF-8 bytes mapped to 256 printable symbols (no unknown tokens ever),
    regex pre-split, BPE merges, one special token <|endoftext|> (also used as pad)."""
    backend = Backend(models.BPE())
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    backend.decoder = decoders.ByteLevel()
    backend.post_processor = processors.ByteLevel(trim_offsets=False)
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, min_frequency=min_frequency, special_tokens=[GPT2_EOS],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    backend.train_from_iterator(texts, trainer=trainer)
    return Tokenizer(backend, "byte_bpe", GPT2_SPECIAL)
