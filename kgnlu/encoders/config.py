"""EncoderConfig: every shape the one transformer takes (BERT, ALBERT, ELECTRA, GPT-2 and mixes).

A validated dataclass: bad values raise :class:`~kgnlu.errors.ConfigError` at construction, with
what to change. Defaults are BERT-base; :meth:`EncoderConfig.bert`, ``.albert``, ``.electra`` and
``.gpt2`` give each seed's published shape and accept overrides for tiny test configs.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from kgnlu.errors import ConfigError

ACTIVATIONS = ("gelu", "gelu_tanh", "relu", "silu")
POSITION_SCHEMES = ("learned", "sinusoidal")
NORM_PLACEMENTS = ("post", "pre")
SHARING_MODES = ("none", "ffn", "attention", "all")
INIT_SCHEMES = ("bert", "gpt2")
ATTENTION_BACKENDS = ("sdpa", "eager")


@dataclass
class EncoderConfig:
    # --- vocabulary and widths ---
    vocab_size: int = 30_522  # BERT's uncased WordPiece; GPT-2's byte-level BPE is 50,257
    embedding_size: int | None = None  # E; None = hidden_size. ALBERT factorises V×E then E×H when E ≠ H
    hidden_size: int = 768  # H
    num_layers: int = 12
    num_heads: int = 12  # must divide H; head size H / heads (64 for every seed's base shape)
    ffn_size: int = 3072  # 4·H in every seed
    activation: str = "gelu"  # BERT/ELECTRA: exact erf GELU; GPT-2 and ALBERT: "gelu_tanh" (HF "gelu_new")
    # --- positions and segments ---
    max_positions: int = 512
    position_scheme: str = "learned"  # "sinusoidal" (Vaswani et al.) has no parameters and no HF export
    type_vocab_size: int = 2  # segment A/B for NSP/SOP; 0 for GPT-2 (no token types)
    # --- normalisation ---
    norm_placement: str = "post"  # "post": LN(x + f(x)) as BERT; "pre": x + f(LN(x)) then a final LN as GPT-2
    layer_norm_eps: float = 1e-12  # BERT's 1e-12; GPT-2 uses 1e-5
    # --- regularisation ---
    hidden_dropout: float = 0.1  # after embeddings, attention output and FFN output
    attention_dropout: float = 0.1  # on attention probabilities
    # --- structure ---
    sharing: str = "none"  # ALBERT §3.1: share nothing, the FFN, the attention, or the whole layer across depth
    causal: bool = False  # GPT-2: each position attends only to itself and earlier ones
    pooler: bool = True  # BERT/ALBERT: dense+tanh over the first token, for NSP/SOP; ELECTRA/GPT-2 have none
    embedding_projection: bool | None = None  # the E→H linear; None = exactly when E ≠ H (HF ALBERT always has one)
    pad_token_id: int | None = 0  # its embedding row starts at zero (BERT); None for GPT-2
    # --- initialisation and heads ---
    init_scheme: str = "bert"  # "bert": N(0, σ); "gpt2": also residual projections at σ/√(2·layers)
    initializer_range: float = 0.02  # σ
    tie_word_embeddings: bool = True  # MLM/CLM decoder weight is the input embedding matrix
    # --- speed ---
    attention_backend: str = "sdpa"  # fused scaled_dot_product_attention; "eager" is the reference path
    padding_free: bool = True  # drop pad tokens before every per-token op when a batch has padding

    def __post_init__(self) -> None:
        if self.embedding_size is None:
            self.embedding_size = self.hidden_size
        if self.embedding_projection is None:
            self.embedding_projection = self.embedding_size != self.hidden_size
        self.validate()

    # ------------------------------------------------------------------ validation
    def validate(self) -> None:
        def positive(name: str) -> None:
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ConfigError(f"EncoderConfig.{name} must be a positive integer, got {value!r}")

        for name in ("vocab_size", "hidden_size", "embedding_size", "num_layers", "num_heads",
                     "ffn_size", "max_positions"):
            positive(name)
        if self.hidden_size % self.num_heads:
            raise ConfigError(
                f"hidden_size {self.hidden_size} is not divisible by num_heads {self.num_heads}; "
                "pick heads so that the head size H/heads is an integer (64 in every seed)")
        choices = {"activation": ACTIVATIONS, "position_scheme": POSITION_SCHEMES,
                   "norm_placement": NORM_PLACEMENTS, "sharing": SHARING_MODES,
                   "init_scheme": INIT_SCHEMES, "attention_backend": ATTENTION_BACKENDS}
        for name, allowed in choices.items():
            if getattr(self, name) not in allowed:
                raise ConfigError(f"EncoderConfig.{name} must be one of {', '.join(allowed)}; "
                                  f"got {getattr(self, name)!r}")
        if not isinstance(self.type_vocab_size, int) or self.type_vocab_size < 0:
            raise ConfigError(f"type_vocab_size must be >= 0 (0 = no token types), got {self.type_vocab_size!r}")
        for name in ("hidden_dropout", "attention_dropout"):
            value = getattr(self, name)
            if not 0.0 <= value < 1.0:
                raise ConfigError(f"EncoderConfig.{name} must be in [0, 1), got {value!r}")
        if self.layer_norm_eps <= 0 or self.initializer_range <= 0:
            raise ConfigError("layer_norm_eps and initializer_range must be positive")
        if self.embedding_size != self.hidden_size and not self.embedding_projection:
            raise ConfigError(
                f"embedding_size {self.embedding_size} differs from hidden_size {self.hidden_size}, "
                "so the E→H projection is required; leave embedding_projection unset or True")
        if self.pad_token_id is not None and not 0 <= self.pad_token_id < self.vocab_size:
            raise ConfigError(f"pad_token_id {self.pad_token_id} is outside the vocabulary (0..{self.vocab_size - 1})")
        limit = max_parameters()
        if self.estimated_parameters > limit:
            raise ConfigError(
                f"this config describes ~{self.estimated_parameters:,} parameters, over the limit {limit:,} "
                f"(vocab {self.vocab_size:,}, hidden {self.hidden_size:,}, layers {self.num_layers:,}); a damaged or "
                "hostile config.json? If you mean it, raise the limit with KGNLU_MAX_PARAMETERS")

    # ------------------------------------------------------------------ derived
    @property
    def estimated_parameters(self) -> int:
        """Weights this config allocates (embeddings, attention and FFN blocks after sharing,
        norms, pooler), computed from the sizes alone: checked before anything is allocated."""
        v, e, h, f, layers = self.vocab_size, self.embedding_size, self.hidden_size, self.ffn_size, self.num_layers
        embeddings = v * e + self.type_vocab_size * e + 2 * e  # tokens, segments, the embedding norm
        embeddings += self.max_positions * e if self.position_scheme == "learned" else 0
        embeddings += (e * h + h) if self.embedding_projection else 0
        attention = 4 * h * h + 4 * h + 2 * h  # Q, K, V, output; its layer norm
        ffn = 2 * h * f + f + h + 2 * h
        ffn_blocks = 1 if self.sharing in ("ffn", "all") else layers
        return embeddings + self.num_attention_blocks * attention + ffn_blocks * ffn + (h * h + h if self.pooler else 0)

    @property
    def head_size(self) -> int:
        return self.hidden_size // self.num_heads

    @property
    def num_attention_blocks(self) -> int:
        """Distinct attention parameter sets: 1 when shared across depth, else one per layer."""
        return 1 if self.sharing in ("attention", "all") else self.num_layers

    @property
    def num_ffn_blocks(self) -> int:
        return 1 if self.sharing in ("ffn", "all") else self.num_layers

    def replace(self, **changes: Any) -> EncoderConfig:
        """A validated copy with some fields changed; E and the projection follow H if they did before."""
        values = self.to_dict()
        if "embedding_size" not in changes and self.embedding_size == self.hidden_size:
            values["embedding_size"] = None
        if "embedding_projection" not in changes and self.embedding_projection == (self.embedding_size != self.hidden_size):
            values["embedding_projection"] = None
        values.update(changes)
        return EncoderConfig(**values)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> EncoderConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ConfigError(f"unknown EncoderConfig fields: {', '.join(unknown)}. Known: {', '.join(sorted(known))}")
        return cls(**values)

    # ------------------------------------------------------------------ seed shapes
    @classmethod
    def bert(cls, **overrides: Any) -> EncoderConfig:
        """BERT-base (Devlin et al. 2019): post-LN, learned positions, token types, pooler."""
        return cls(**overrides)

    @classmethod
    def albert(cls, **overrides: Any) -> EncoderConfig:
        """ALBERT-base (Lan et al. 2020): E=128 factorised embedding, all layers shared, V=30,000."""
        values: dict[str, Any] = dict(vocab_size=30_000, embedding_size=128, sharing="all",
                                      activation="gelu_tanh", hidden_dropout=0.0, attention_dropout=0.0)
        values.update(overrides)
        return cls(**values)

    @classmethod
    def electra(cls, **overrides: Any) -> EncoderConfig:
        """ELECTRA discriminator (Clark et al. 2020): BERT layers, no pooler, E may be smaller than H."""
        values: dict[str, Any] = dict(pooler=False)
        values.update(overrides)
        return cls(**values)

    @classmethod
    def gpt2(cls, **overrides: Any) -> EncoderConfig:
        """GPT-2 small (Radford et al. 2019): causal, pre-LN with a final LN, scaled residual init."""
        values: dict[str, Any] = dict(
            vocab_size=50_257, max_positions=1024, type_vocab_size=0, norm_placement="pre",
            layer_norm_eps=1e-5, activation="gelu_tanh", causal=True, pooler=False, pad_token_id=None,
            init_scheme="gpt2")
        values.update(overrides)
        return cls(**values)


DEFAULT_MAX_PARAMETERS = 20_000_000_000  # above any model a CPU or one GPU here trains; far below 10^7 layers


def max_parameters() -> int:
    """The parameter limit (``KGNLU_MAX_PARAMETERS`` raises or lowers it)."""
    import os

    raw = os.environ.get("KGNLU_MAX_PARAMETERS")
    if raw is None:
        return DEFAULT_MAX_PARAMETERS
    try:
        return int(float(raw))
    except ValueError:
        raise ConfigError(f"KGNLU_MAX_PARAMETERS={raw!r} is not a number") from None

