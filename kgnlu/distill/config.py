"""DistillConfig: one YAML file per distillation job (``kgnlu distill --config configs/NAME.yaml``).

Three jobs share the file format (``method``):

- ``mlm_head``: fit a masked-LM head on a *frozen* teacher. all-MiniLM-L6-v2 is a sentence
  encoder and ships no MLM head, yet DistilBERT's soft targets are MLM distributions; this step
  makes them. Output: ``out_dir/mlm_head/``.
- ``distilbert``: Sanh et al. 2019 — student initialised from every other teacher layer; loss
  α·soft-target CE at temperature T (teacher MLM head vs student MLM head) + β·MLM + γ·(1 − cos)
  of the last hidden states.
- ``tinybert``: Jiao et al. 2020 — general distillation from a randomly initialised student
  (embedding MSE, hidden-state MSE through learned projections, attention-score MSE, over a layer
  map), then, when ``task`` is set, task-specific distillation on the WordNet supersense task in
  the paper's two steps — intermediate-layer distillation on (augmented) task data, then
  prediction-layer soft CE (:mod:`kgnlu.distill.task`, :mod:`kgnlu.distill.augmentation`).

Data and trainer sections are the pretraining ones (:class:`~kgnlu.pretrain.config.DataSpec`,
:class:`~kgnlu.training.trainer.TrainerConfig`), so corpora, masking and schedules read the same everywhere.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from kgnlu.config import load_run_config
from kgnlu.errors import ConfigError
from kgnlu.pretrain.config import DataSpec
from kgnlu.training.trainer import TrainerConfig

METHODS = ("mlm_head", "distilbert", "tinybert")
#: sections whose YAML value replaces the default instead of merging into it
REPLACED = ("losses",)


@dataclass
class StudentSpec:
    """The student's shape; ``None`` keeps the teacher's value."""

    num_layers: int = 3  # DistilBERT halves the depth; 3 of MiniLM's 6
    hidden_size: int | None = None  # narrower than the teacher → learned projections for hidden losses
    num_heads: int | None = None  # TinyBERT's attention loss needs the teacher's head count
    # None: the teacher's ratio ffn/hidden times the student's width; smaller at the teacher's hidden
    # width = a narrower FFN initialised from the teacher's most important neurons
    ffn_size: int | None = None
    # "auto": copy the teacher's embeddings and layers when the widths match, else random (BERT init)
    # — for method tinybert "auto" means "random" (the paper distils from scratch);
    # "teacher" (alias "teacher_layers"): insist on copying (error across widths); "random": never copy
    init: Literal["auto", "teacher", "teacher_layers", "random"] = "auto"
    # teacher layers (0-based) copied into the student's layers; None = DistilBERT's "one out of
    # two" spread with both ends kept (0, 3, 5 for 3 of 6; 0, 5 for 2 of 6; see layer_map.py)
    init_layers: list[int] | None = None
    # KG-fused teacher (kgnlu.fusion.KGEncoder): keep its injection layers (moved to the mapped
    # student layers, weights copied) or drop them (the student is a plain Encoder)
    keep_injections: bool = True

    def __post_init__(self) -> None:
        if self.init == "teacher_layers":
            self.init = "teacher"
        if self.num_layers < 1:
            raise ConfigError(f"student.num_layers must be >= 1, got {self.num_layers}")
        for name in ("hidden_size", "num_heads", "ffn_size"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ConfigError(f"student.{name} must be >= 1 (or null for the teacher's), got {value}")
        if self.init_layers is not None and len(self.init_layers) != self.num_layers:
            raise ConfigError(f"student.init_layers names {len(self.init_layers)} teacher layers for a "
                              f"{self.num_layers}-layer student; give one per student layer (or null)")


@dataclass
class AugmentSpec:
    """TinyBERT's data augmentation of the task's train examples (Algorithm 1; :mod:`.augmentation`)."""

    copies: int = 20  # N_a augmented copies per example (0 = no augmentation)
    p_replace: float = 0.4  # p_t, the chance each replaceable word is replaced in a copy
    candidates: int = 15  # K candidates per word
    # multi-piece words' candidates (the paper: GloVe neighbours): WordNet synonyms, MiniLM
    # input-embedding neighbours, or synonyms first then neighbours up to K
    neighbours: Literal["wordnet", "embedding", "wordnet+embedding"] = "wordnet+embedding"
    # single-piece words' candidates: the MLM head fitted on the frozen teacher
    # (configs/distill-mlm-head.yaml); "" = neighbours for every word (not the paper's)
    mlm_head: str = "runs/minilm-mlm-head/mlm_head"
    seed: int = 0
    # augment only the first N train examples (the rest stay, unaugmented): a CPU budget that
    # trains on a few thousand augmented glosses need not pay the MLM passes for all 84,000
    max_examples: int | None = None

    def __post_init__(self) -> None:
        if self.copies < 0 or self.candidates < 1 or not 0.0 <= self.p_replace <= 1.0:
            raise ConfigError(f"task.augment needs copies >= 0, candidates >= 1 and 0 <= p_replace <= 1 "
                              f"(got {self.copies}, {self.candidates}, {self.p_replace})")


@dataclass
class TaskSpec:
    """TinyBERT's second stage: task-specific distillation on WordNet supersenses (gloss → 45 labels).

    The teacher's classifier is fine-tuned with the supersense task's fixed recipe
    (:class:`kgnlu.data.supersense.FinetuneConfig`: same examples, steps, lr for every model). The
    student then learns in TinyBERT's two steps on the augmented train examples: intermediate-layer
    distillation (the general stage's losses, against the fine-tuned teacher encoder) for
    ``intermediate_steps``, then prediction-layer distillation (the teacher classifier's logits as
    its only targets) for the recipe's step count (capped by ``max_steps``).
    """

    name: Literal["supersense"] = "supersense"
    finetune: dict[str, Any] = field(default_factory=dict)  # FinetuneConfig fields over its defaults
    student_lr: float = 5e-4  # the recipe's lr; the student's classifier starts fresh, as the teacher's did
    temperature: float = 1.0  # TinyBERT's t = 1
    hard_weight: float = 0.0  # optional CE on gold labels beside the soft targets (TinyBERT: 0)
    # step 1, intermediate-layer distillation on task data (TinyBERT: 20 epochs of the augmented
    # set); None = as many steps as step 2, 0 = skip (kgnlu's old prediction-only stage)
    intermediate_steps: int | None = None
    intermediate_lr: float = 5e-4
    prediction_steps: int | None = None  # step 2; None = the recipe's epochs over the original train examples
    augment: AugmentSpec = field(default_factory=AugmentSpec)  # copies: 0 = no augmentation
    seed: int = 0  # the split's seed (supersense_splits)
    # caps the steps of both task stages (the recipe's otherwise); `kgnlu distill --max-steps` sets
    # it with trainer.max_steps, so that one option bounds every stage of a run
    max_steps: int | None = None


@dataclass
class LinkedData:
    """Entity-linked text for KG-fused teachers (kgnlu.fusion): batches then carry ``entity_*``
    tensors, so the teacher's injection layers see entities (and a student that keeps them too).
    Empty ``corpus`` = the plain ``data`` section's corpus (a fused teacher then runs as its plain encoder)."""

    corpus: str = ""  # a linked-corpus folder (kgnlu.fusion.corpus.build_linked_corpus) or its corpus.jsonl
    graph: str = ""  # the graph it was linked against: internal ids are the entity table's rows
    data: dict[str, Any] = field(default_factory=dict)  # kgnlu.fusion.data.FusionDataConfig fields


@dataclass
class DistillConfig:
    name: str = "distill"
    out_dir: str = "runs/distill"
    method: Literal["mlm_head", "distilbert", "tinybert"] = "distilbert"
    # "minilm" = the packaged all-MiniLM-L6-v2; else a folder: kgnlu / Hugging Face encoder, a
    # KGEncoder (kgnlu.fusion) save, or a distilled student
    teacher: str = "minilm"
    # "minilm" = the packaged WordPiece; "teacher" = the tokenizer saved in the teacher's folder;
    # else a tokenizer folder
    tokenizer: str = "minilm"
    # distilbert: the folder ``kgnlu distill`` wrote for the mlm_head job (its out_dir/mlm_head)
    mlm_head: str | None = None
    student: StudentSpec = field(default_factory=StudentSpec)
    # loss name → weight. distilbert: soft_ce, mlm, cosine (DistilBERT's α=5, β=2, γ=1);
    # tinybert: embedding, hidden, attention (TinyBERT sums them with weight 1)
    losses: dict[str, float] = field(default_factory=dict)
    temperature: float = 2.0  # DistilBERT's T for the soft targets
    # student hidden-state index (1..M) → teacher hidden-state index; None = TinyBERT's uniform
    # map g(m) = m·N/M (hidden index 0, the embeddings, always maps to 0)
    layer_map: list[int] | None = None
    # tinybert: "scores" = MSE of pre-softmax attention scores (the paper); "probs" = of probabilities
    attention_loss: Literal["scores", "probs"] = "scores"
    task: TaskSpec | None = None  # tinybert only: run task-specific distillation after the general one
    data: DataSpec = field(default_factory=DataSpec)
    linked: LinkedData = field(default_factory=LinkedData)  # KG-fused teachers: entity-linked batches
    trainer: TrainerConfig = field(default_factory=TrainerConfig)  # its out_dir is set to ``out_dir``

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ConfigError(f"method must be one of {', '.join(METHODS)}, got {self.method!r}")
        if self.temperature <= 0:
            raise ConfigError(f"temperature must be > 0, got {self.temperature}")
        allowed = {"mlm_head": {"mlm"}, "distilbert": {"soft_ce", "mlm", "cosine"},
                   "tinybert": {"embedding", "hidden", "attention"}}[self.method]
        if not self.losses:
            self.losses = dict(DEFAULT_LOSSES[self.method])
        unknown = sorted(set(self.losses) - allowed)
        if unknown:
            raise ConfigError(f"losses {unknown} do not belong to method {self.method!r}; it knows "
                              f"{', '.join(sorted(allowed))}")
        for name, weight in self.losses.items():
            if isinstance(weight, bool) or not isinstance(weight, int | float) or weight < 0:
                raise ConfigError(f"loss weight {name!r} must be a number >= 0, got {weight!r}")
        if self.method == "distilbert" and self.mlm_head is None:
            raise ConfigError("distilbert needs the teacher's MLM head: set mlm_head to the folder the "
                              "mlm_head job wrote (e.g. runs/minilm-mlm-head/mlm_head)")
        if self.attention_loss not in ("scores", "probs"):
            raise ConfigError(f"attention_loss must be scores or probs, got {self.attention_loss!r}")
        if self.method == "tinybert" and self.student.init == "auto":
            self.student = dataclasses.replace(self.student, init="random")  # the paper distils from scratch
        if self.task is not None and self.method != "tinybert":
            raise ConfigError("task-specific distillation (task:) is TinyBERT's second stage; use method: tinybert")
        if bool(self.linked.corpus) != bool(self.linked.graph):
            raise ConfigError("linked.corpus and linked.graph go together (the corpus's entity ids are the graph's)")
        if self.data.instances.kind != "mlm":
            raise ConfigError(f"distillation reads MLM instances; set data.instances.kind: mlm "
                              f"(got {self.data.instances.kind!r})")
        self.trainer = dataclasses.replace(self.trainer, out_dir=self.out_dir)

    @classmethod
    def load(cls, path: str | Path | None, overrides: Sequence[str] = (), max_steps: int | None = None
             ) -> DistillConfig:
        """The YAML file over the defaults, then ``key=value`` overrides, then ``max_steps`` (which
        also caps the task stages when there are any). The field defaults leave ``losses`` empty, so
        that the method's own losses fill it once the file is read; a ``task`` section starts from
        :class:`TaskSpec`'s defaults."""
        config = load_run_config(cls, path, [*overrides, {"trainer": {"max_steps": max_steps}}], replace=REPLACED)
        if max_steps is not None and config.task is not None:
            config.task = dataclasses.replace(config.task, max_steps=max_steps)
        return config


DEFAULT_LOSSES: dict[str, dict[str, float]] = {
    "mlm_head": {"mlm": 1.0},
    "distilbert": {"soft_ce": 5.0, "mlm": 2.0, "cosine": 1.0},  # Sanh et al.'s released weights
    "tinybert": {"embedding": 1.0, "hidden": 1.0, "attention": 1.0},  # Jiao et al. sum the terms
}
