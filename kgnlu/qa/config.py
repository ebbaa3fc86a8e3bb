"""QAConfig: the knobs of a KGQA model, with the reason for each default."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kgnlu.config import from_dict, load_run_config
from kgnlu.errors import ConfigError

UPPER_BOUNDS = {"ensemble": 64, "hidden": 16_384, "kind_dim": 4_096, "gnn_hidden": 4_096, "gnn_layers": 64,
                "max_subgraph_nodes": 1_000_000, "max_frontier": 10_000_000,
                "max_mentions": 1_000, "max_candidates": 1_000, "paths_per_topic": 10_000, "max_executions": 10_000,
                "batch_size": 1_000_000, "epochs": 10_000, "threads": 1_024}


@dataclass
class QAConfig:
    # -- question side
    placeholder: str = "something"  # the topic mention is replaced by this before encoding, so the
    # relation scorer sees the question's template, not the entity (topics are held out at test time)
    max_question_chars: int = 2000  # longer questions are refused (E090); the encoder reads 128 tokens
    max_mentions: int = 4  # linked mentions tried as the topic, best link score first
    max_candidates: int = 4  # entities tried per mention (linker candidates, plus their sameAs twins)
    topic_surface: bool = True  # the topic head also reads the mention's own embedding: frame words of an
    # unseen wording ("a *type* of what", "the *class* two steps above") resemble the training frames'
    # ("kind", "category"), which are never topics; models saved before it have False
    # -- relation-path scorer
    hidden: int = 256  # question projection width: a 384-d MiniLM vector needs little more
    relation_text_weight: float = 1.0  # 0 switches off relation-name embeddings (pure learned ids)
    kind_dim: int = 16  # the topic entity's kind conditions the path ("where is X": city vs country)
    dropout: float = 0.1
    # path cross-entropy's label smoothing: unsmoothed members fit the training wordings to a zero loss
    # and put 20+ nats between paths on unseen wordings, drowning the zero-shot expert and the step-count
    # prior. Held-out-template check (as below, with the step-count prior): hits@1 0.834 unsmoothed →
    # 0.889 (0.05), 0.891 (0.1), 0.884 (0.3); topic chosen right 0.975 → 0.999
    label_smoothing: float = 0.1
    ensemble: int = 5  # scorers from different seeds, averaged (see ScorerEnsemble for the evidence)
    # zero-shot path expert (kgnlu.qa.path_text): path logit += scale · cos(question, description
    # prototype), and each path description joins the training questions augment_repeat times
    # (template-free augmentation). Chosen on the held-out-template check (`kgnlu qa train
    # --holdout-templates`: one training template per path left out, the whole pipeline scored on its
    # questions; it never reads test or paraphrase_dev, then called paraphrase_test), default graph,
    # lexical_variants 8, 5 members:
    # hits@1 0.696 without the expert → 0.796 (scale 60, repeat 8), 0.808 (100, 8), 0.818 (30, 16).
    # 0 switches either off (the expert also goes off when it costs dev hits@1, see train_qa)
    path_text_scale: float = 30.0
    # weight of the trained members' path log-probabilities beside the zero-shot expert: trained on
    # generated wordings, they over-trust them on people's wording (see docs/qa.md)
    mlp_weight: float = 1.0
    # step-count prior (kgnlu.qa.step_counts): a question stating a count ("two levels up",
    # "grandparent") favours paths repeating one step that often, as strongly as the training questions
    # that state counts agree with it. False trains without one; models saved before it have none
    step_count_prior: bool = True
    augment_repeat: int = 16  # each path description joins the training questions this many times
    # WordNet rewordings per training template (kgnlu.qa.lexical), also fed to the topic head; 0 = none.
    # On templates held out of training (train_qa(holdout_templates=True), 3 members) path accuracy
    # 0.562 → 0.573 with 4; it fixes lexical-gap wordings ("seats of government", "nation"). Training
    # takes about 2×
    lexical_variants: int = 8
    lexical_budget: int = 20000  # rewordings embedded at most (variants per wording shrink when wordings are many)
    lexical_rate: float = 0.5  # share of a template's content words swapped in each rewording
    lexical_senses: int = 3  # commonest senses per word whose lemmas and short definitions are used
    lexicon_dir: str | None = None  # a WordNet dict folder (None: /usr/share/wordnet)
    # -- type cues and frame words (kgnlu.qa.question_cues), for trained and zero-shot models alike
    topic_salience_weight: float = 1.0  # weight of a mention's salience (rare words, proper name) as the topic
    side_weight: float = 0.0  # zero-shot: weight of the left/right-of-topic cosines (kgnlu.qa.path_matching)
    hop_penalty: float = 2.0  # nats per step beyond the first (a description that adds a hop loses little cosine)
    frame_penalty: float = 8.0  # nats off a frame mention's topic log-probability when another mention fits
    path_type_weight: float = 1.0  # weight of log P(a path's answers fit the asked type) in the path score
    answer_type_weight: float = 1.0  # weight of log P(an answer fits the asked type) in its score
    zero_shot_max_answers: float = 100.0  # catalog paths for zero-shot answering: median answer set at most this
    # -- cross-encoder reranker (kgnlu.qa.reranker): MiniLM's first layers read question and path
    # description together and rescore the first stage's best (mention, path) pairs
    reranker: bool = True  # train one (kgnlu qa train); False trains without
    reranker_layers: int = 3  # MiniLM layers it keeps: half the cost of six at inference
    reranker_examples: int = 1000  # training questions it learns from (listwise, reranker_candidates paths each)
    reranker_candidates: int = 6  # gold, its direction flip, the first stage's best wrong paths
    reranker_epochs: int = 3
    reranker_batch_size: int = 16  # questions per step (x reranker_candidates pairs)
    reranker_lr: float = 5e-4  # 1e-4 barely moved it in 188 steps (held-out pick rate 0.21); 5e-4: 0.66
    rerank_top: int = 4  # (mention, path) pairs rescored per question: bounds latency
    rerank_weight: float = 1.0  # weight of the reranker's logit in the joint score
    # -- search and scoring
    # how walked combinations' probabilities become an answer's: "sum" (the answer-set marginal:
    # an answer many paths reach gains, e.g. a country reached by "country of", "part of" and its
    # twin) or "max" (the best combination reaching it)
    answer_pooling: str = "sum"
    paths_per_topic: int = 4  # relation paths walked per candidate topic entity
    max_executions: int = 12  # walks per question: bounds latency on hub-heavy questions
    max_frontier: int = 2000  # nodes per step of a walk; WordNet hubs exceed it
    link_weight: float = 1.0  # weight of log p(entity | mention) from the linker in the joint score
    topic_weight: float = 1.0  # weight of log p(mention is the topic) from the topic head
    type_weight: float = 0.5  # weight of log p(answer kind | question) from the typing head
    ppr_weight: float = 0.05  # personalised PageRank only breaks ties among a path's answers
    gnn_weight: float = 1.0  # the GNN's node logit; training sets 0 when it does not help on dev
    exclude_topic: bool = True  # MetaQA convention: the topic is never its own answer
    max_evidence: int = 3  # supporting paths returned per answer
    # -- GNN over the retrieved subgraph
    gnn_hidden: int = 32  # a few hundred nodes with 8 features each: tiny is enough and fast
    gnn_layers: int = 2
    max_subgraph_nodes: int = 256
    # -- training
    max_train_questions: int = 20000  # sampled evenly over templates; bounds the encoding pass
    topic_examples: int = 3000  # questions linked to learn which mention is the topic
    gnn_examples: int = 2000  # questions whose retrieved subgraphs train the GNN
    epochs: int = 4  # per ensemble member; held-out-template accuracy did not improve with 8
    batch_size: int = 256
    lr: float = 2e-3  # a small MLP on frozen features: Adam at 1e-3..3e-3 converges in a few epochs
    gnn_epochs: int = 3
    seed: int = 0
    threads: int = 1  # torch threads while training: small batches gain little from more, and shared
    # machines lose a lot to spinning threads

    def __post_init__(self) -> None:
        for name in ("max_mentions", "max_candidates", "hidden", "ensemble", "paths_per_topic", "max_executions",
                     "max_frontier", "gnn_hidden", "gnn_layers", "max_subgraph_nodes", "epochs",
                     "batch_size", "threads", "reranker_layers", "reranker_examples", "reranker_epochs",
                     "reranker_batch_size", "rerank_top"):
            if getattr(self, name) < 1:
                raise ConfigError(f"qa.{name} must be >= 1, got {getattr(self, name)}")
        # sizes that allocate: bounded before anything is built, so a hostile qa.json cannot
        # exhaust memory (a saved model's config is read through here too)
        for name, most in UPPER_BOUNDS.items():
            if getattr(self, name) > most:
                raise ConfigError(f"qa.{name} is {getattr(self, name):,}, over the sane bound {most:,}: "
                                  "a damaged or hostile config? Fix the value")
        if not 0.0 <= self.label_smoothing < 1.0:
            raise ConfigError(f"qa.label_smoothing must be in [0, 1), got {self.label_smoothing}")
        if not 0.0 <= self.dropout < 1.0:
            raise ConfigError(f"qa.dropout must be in [0, 1), got {self.dropout}")
        if self.path_text_scale < 0 or self.augment_repeat < 0 or self.mlp_weight < 0 or self.hop_penalty < 0:
            raise ConfigError("qa.path_text_scale, qa.augment_repeat, qa.mlp_weight and qa.hop_penalty must be >= 0")
        if self.lexical_variants < 0 or self.lexical_senses < 1 or not 0.0 <= self.lexical_rate <= 1.0:
            raise ConfigError("qa.lexical_variants must be >= 0, qa.lexical_senses >= 1, qa.lexical_rate in [0, 1]")
        if self.reranker_candidates < 2 or self.reranker_layers > 6 or self.reranker_lr <= 0:
            raise ConfigError("qa.reranker_candidates must be >= 2, qa.reranker_layers <= 6 (MiniLM's), "
                              "qa.reranker_lr > 0")
        if self.answer_pooling not in ("sum", "max"):
            raise ConfigError(f"qa.answer_pooling must be 'sum' or 'max', got {self.answer_pooling!r}")
        if self.lexical_budget < 1:
            raise ConfigError(f"qa.lexical_budget must be >= 1, got {self.lexical_budget}")
        if self.max_question_chars < 16:
            raise ConfigError(f"qa.max_question_chars must be >= 16, got {self.max_question_chars}")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> QAConfig:
        return from_dict(cls, data, "qa")


@dataclass
class QATrainConfig:
    """A ``kgnlu qa train --config`` file (configs/qa-default.yaml): the model's knobs under ``qa:``."""

    qa: QAConfig = field(default_factory=QAConfig)

    @classmethod
    def load(cls, path: str | Path | None, overrides: Sequence[str] = ()) -> QATrainConfig:
        """The file over QAConfig's defaults, then ``qa.KEY=value`` overrides (nested keys merge)."""
        return load_run_config(cls, path, list(overrides))
