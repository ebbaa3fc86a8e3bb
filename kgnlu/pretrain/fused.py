"""KG-fused continued pretraining through ``kgnlu pretrain``: the config's ``fusion`` section.

    kgnlu pretrain --config configs/fusion-minilm-kar.yaml        # MiniLM + KAR over TransE entities
    kgnlu pretrain --config configs/fusion-minilm-control.yaml    # the same encoder, data and steps, no fusion

A pretraining config with a non-empty ``fusion`` section (:class:`FusionSpec`) trains on a linked
corpus (:mod:`kgnlu.fusion.corpus`) instead of ``data.corpus``: ``data.batch_size``,
``data.num_workers`` and ``data.max_documents`` (records read) still apply, ``data.instances``
does not — :class:`~kgnlu.fusion.data.FusionDataConfig` (``fusion.data``) says how sequences are
packed, masked and aligned. ``model``, ``objectives``, ``tokenizer`` and ``trainer`` mean what they
mean for any run.

Fused vs control: with ``inject`` (e.g. ``{3: kar}``) the encoder is wrapped in a
:class:`~kgnlu.fusion.KGEncoder` over ``entity_table`` and batches carry ``entity_*`` tensors;
with ``inject: {}`` the same encoder trains on the same sequences with the same masks and no
entity inputs. Both read the graph, because which links align (and so which mention spans the
entity masking picks) depends on the entity rows.

``init: minilm`` starts from the packaged all-MiniLM-L6-v2 (``tokenizer.kind: minilm``; ``model``
is ignored); MiniLM has no MLM head, so the ``mlm`` objective's head starts fresh, its decoder tied
to the word embeddings. ``init: scratch`` builds ``model`` from its shape preset (tests, small runs).
The run folder is the usual one; the last checkpoint's ``model.safetensors`` holds the heads too,
and :func:`load_pretraining_model` rebuilds the whole model (heads included) from a run folder,
which the cloze probe (:mod:`kgnlu.eval.probe`) uses.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch.utils.data import DataLoader

from kgnlu.config import from_dict, load_yaml
from kgnlu.errors import CheckpointError, ConfigError, FusionError
from kgnlu.fusion.corpus import corpus_file
from kgnlu.fusion.data import FusionCollator, FusionDataConfig, LinkedDataset


@dataclass
class FusionSpec:
    corpus: str = ""  # a linked-corpus folder (build_linked_corpus) or its corpus.jsonl
    graph: str = ""  # the graph the corpus was linked against: its internal ids are the table's rows
    entity_table: str | None = None  # GRAPH/embeddings/NAME (kgnlu kge train) or a safetensors file
    inject: dict[int, str] = field(default_factory=dict)  # {layer: kind}; {} = the control run
    injection_options: dict[str, dict[str, Any]] = field(default_factory=dict)  # {kind: {option: value}}
    freeze_entities: bool = True  # ERNIE kept its TransE table fixed; a trained table could memorise the text
    init: str = "minilm"  # "minilm": all-MiniLM-L6-v2 weights; "scratch": the model section's shape
    # train only layers >= freeze_below (embeddings and lower layers frozen, in the fused run and its
    # control alike); None trains every weight. On a shared CPU, freezing under the injection point
    # halves a step's backward pass and leaves AdamW 5M of MiniLM's 23M weights
    freeze_below: int | None = None
    data: FusionDataConfig = field(default_factory=FusionDataConfig)

    def __post_init__(self) -> None:
        if not self.corpus or not self.graph:
            raise ConfigError("fusion.corpus (a linked corpus folder) and fusion.graph are required")
        if self.init not in ("minilm", "scratch"):
            raise ConfigError(f"fusion.init must be minilm or scratch, got {self.init!r}")
        if self.inject and not self.entity_table:
            raise ConfigError("fusion.inject needs fusion.entity_table (GRAPH/embeddings/NAME from `kgnlu kge train`)")

    @property
    def fused(self) -> bool:
        return bool(self.inject)


def fusion_spec(config) -> FusionSpec:
    spec = from_dict(FusionSpec, config.fusion, "fusion")
    spec.corpus, spec.graph = str(Path(spec.corpus).expanduser()), str(Path(spec.graph).expanduser())
    if spec.entity_table:
        spec.entity_table = str(Path(spec.entity_table).expanduser())
    return spec


def entity_rows(graph):
    """External id → row of a table over ``graph``'s internal ids (None when the graph lacks it)."""
    def row(entity: str) -> int | None:
        index = graph.index_of(entity)
        return None if index < 0 else int(index)

    return row


def build_encoder(config, spec: FusionSpec, tokenizer):
    """The plain encoder (MiniLM or a fresh shape), wrapped in a KGEncoder when the run is fused."""
    from kgnlu.encoders.encoder import Encoder
    from kgnlu.encoders.pretrained import load_minilm
    from kgnlu.pretrain.config import build_encoder_config

    if spec.init == "minilm":
        if config.tokenizer.kind != "minilm":
            raise ConfigError("fusion.init: minilm needs tokenizer.kind: minilm (the model's own vocabulary)")
        encoder = load_minilm()
    else:
        encoder = Encoder(build_encoder_config(config.model, tokenizer, spec.data.max_length))
    if spec.freeze_below is not None:
        freeze_lower(encoder, spec.freeze_below)
    if not spec.fused:
        return encoder
    from kgnlu.fusion.kg_encoder import KGEncoder

    return KGEncoder(encoder, spec.entity_table, spec.inject, spec.freeze_entities, spec.injection_options)


def freeze_lower(encoder, below: int) -> None:
    """Stop gradients into the embeddings and layers [0, below) of an unshared layer stack."""
    layers = encoder.layers
    count = encoder.config.num_layers
    if len(layers.attention_blocks) != count or len(layers.ffn_blocks) != count:
        raise ConfigError("fusion.freeze_below needs an encoder whose layers share no weights (sharing: none)")
    if not 0 <= below <= count:
        raise ConfigError(f"fusion.freeze_below must be in 0..{count}, got {below}")
    frozen = [encoder.embeddings, *layers.attention_blocks[:below], *layers.ffn_blocks[:below]]
    for module in frozen:
        module.requires_grad_(False)


def build_fusion_run(config, run_dir: Path):
    """(PretrainingModel, DataLoader, tokenizer) for a config with a ``fusion`` section."""
    from kgnlu.data.corpora import open_corpus
    from kgnlu.encoders.objectives.model import PretrainingModel
    from kgnlu.kg import KnowledgeGraph
    from kgnlu.pretrain.config import build_tokenizer

    spec = fusion_spec(config)
    text = open_corpus("text", paths=[str(corpus_file(spec.corpus))])  # what a trained tokenizer learns from
    tokenizer = build_tokenizer(config.tokenizer, text, run_dir / "tokenizer")
    graph = KnowledgeGraph.load(spec.graph, verify=False)
    torch.manual_seed(config.trainer.seed)  # fresh weights (injections, a scratch encoder) follow the seed
    encoder = build_encoder(config, spec, tokenizer)
    if spec.fused and encoder.entity_embeddings.num_embeddings != graph.num_entities:
        raise FusionError(f"the entity table has {encoder.entity_embeddings.num_embeddings} rows but the graph "
                          f"{graph.num_entities} entities; train it on this graph (`kgnlu kge train {spec.graph}`)")
    torch.manual_seed(config.trainer.seed)  # heads start the same in a fused run and its control
    model = PretrainingModel(encoder, config.objectives, config.objective_options)
    data = from_dict(FusionDataConfig, {**_plain(spec.data), "entities": spec.fused}, "fusion.data")
    dataset = LinkedDataset(spec.corpus, tokenizer, data, limit=config.data.max_documents)
    neighbourhood, label_pieces = slot_helpers(graph, tokenizer, data) if spec.fused else (None, None)
    loader = DataLoader(dataset, batch_size=config.data.batch_size, num_workers=config.data.num_workers,
                        collate_fn=FusionCollator(tokenizer, entity_rows(graph), data, neighbourhood, label_pieces))
    return model, loader, tokenizer


def slot_helpers(graph, tokenizer, data: FusionDataConfig):
    """(GraphNeighbourhood | None, LabelPieces | None) for the data config's graph slots."""
    neighbourhood = label_pieces = None
    if data.graph_slots:
        from kgnlu.fusion.slots import GraphNeighbourhood

        neighbourhood = GraphNeighbourhood(graph, data.graph_slots)
    if data.slot_pieces:
        from kgnlu.fusion.slot_copy import LabelPieces

        label_pieces = LabelPieces(graph, tokenizer, data.slot_pieces)
    return neighbourhood, label_pieces


def _plain(data: FusionDataConfig) -> dict:
    from kgnlu.config import to_dict

    return to_dict(data)


def load_pretraining_model(run_dir: str | Path):
    """(PretrainingModel in eval mode, tokenizer, FusionSpec | None) from a ``kgnlu pretrain`` run folder.

    Weights come from the newest checkpoint (its ``model.safetensors`` has the heads, which
    ``encoder/`` leaves out). Works for plain runs too (``spec`` None).
    """
    from safetensors.torch import load_model

    from kgnlu.data.tokenizer import Tokenizer
    from kgnlu.encoders.encoder import Encoder
    from kgnlu.encoders.objectives.model import PretrainingModel
    from kgnlu.pretrain.config import PretrainConfig, build_encoder_config
    from kgnlu.training.checkpoint import latest_checkpoint

    run = Path(run_dir)
    if not (run / "pretrain_config.yaml").is_file():
        raise CheckpointError(f"{run} is not a `kgnlu pretrain` run folder (no pretrain_config.yaml)")
    raw = load_yaml(run / "pretrain_config.yaml")
    config = from_dict(PretrainConfig, raw)
    tokenizer = Tokenizer.load(run / "tokenizer")
    spec = fusion_spec(config) if config.fusion else None
    if spec is not None:
        encoder = build_encoder(config, spec, tokenizer)
    else:
        encoder = Encoder(build_encoder_config(config.model, tokenizer, config.data.instances.max_length))
    model = PretrainingModel(encoder, config.objectives, config.objective_options)
    checkpoint = latest_checkpoint(run / "checkpoints")
    if checkpoint is None:
        raise CheckpointError(f"{run} has no checkpoint; train it first (`kgnlu pretrain --config ...`)")
    missing, unexpected = load_model(model, checkpoint / "model.safetensors", strict=False)
    if missing or unexpected:
        raise CheckpointError(f"{checkpoint} does not match the run's config: missing {sorted(missing)[:5]}, "
                              f"unexpected {sorted(unexpected)[:5]}")
    return model.eval(), tokenizer, spec
