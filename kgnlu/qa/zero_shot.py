"""Zero-shot question answering on any graph: no training, no template.

The path vocabulary is the graph's own catalog (:mod:`.path_catalog`: every step, and the 2- and
3-step paths that exist with small answer sets); each path is described in words from the graph
(:mod:`.path_text`) and its descriptions are embedded by the frozen sentence encoder into a
prototype. A question (its topic masked) scores every path by cosine with the prototypes; the
expected answer type, frame words and appositions (:mod:`.type_cues`, :mod:`.type_match`,
:mod:`.frame_words`, applied by :func:`~kgnlu.qa.reasoner.reason` for every model) do the rest.

    qa = KGQA.from_graph("my-graph")        # builds (once, cached) the catalog and prototypes
    qa.answer("Which packages depend on zlib1g?")

The model has :class:`~kgnlu.qa.model.QAModel`'s interface (``config``, ``paths``, ``scorer``,
``path_index``), so the reasoner treats both alike. Catalog and prototypes are cached under
``$KGNLU_HOME/cache/qa/`` by graph checksum and encoder: the graph directory is never written.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import torch
from torch import nn

from kgnlu.qa.config import QAConfig
from kgnlu.qa.paths import RelationPath

log = logging.getLogger(__name__)
CACHE_VERSION = 3
DESCRIPTIONS_PER_HOPS = {1: 16, 2: 6, 3: 4}  # a path scores as its best description


class ZeroShotScorer(nn.Module):
    """ScorerEnsemble's interface with no trained part: each path scores as its best description
    (:class:`~kgnlu.qa.path_matching.DescriptionBank`, word order included), times ``scale``, plus
    a prior for shorter paths."""


    def __init__(self, bank, num_kinds: int, scale: float, lengths: torch.Tensor, hop_penalty: float,
                 side_weight: float):
        super().__init__()
        self.bank = bank
        # (P,) a description that adds a hop rarely loses much cosine: shorter paths first
        self.register_buffer("length_prior", -hop_penalty * (lengths.float() - 1), persistent=False)
        self._num_kinds, self.path_text_scale, self.side_weight = num_kinds, scale, side_weight
        self.step_prior = None

    @property
    def needs_sides(self) -> bool:
        """Whether path_log_probs reads the question's left and right of the topic."""
        return bool(self.side_weight)

    @property
    def num_kinds(self) -> int:
        return self._num_kinds

    def path_log_probs(self, question: torch.Tensor, topic_kind: torch.Tensor,
                       stated_steps: torch.Tensor | None = None, sides: torch.Tensor | None = None) -> torch.Tensor:
        """question (B, Hq), sides (B, 2, Hq) left and right of the topic → (B, P) log-probabilities."""
        left = right = None
        if sides is not None:
            left, right = sides[:, 0].numpy(), sides[:, 1].numpy()
        match = torch.from_numpy(self.bank.scores(question.numpy(), left, right, self.side_weight))
        return torch.log_softmax(self.path_text_scale * match + self.length_prior, dim=-1)

    def type_probs(self, question: torch.Tensor, topic_kind: torch.Tensor) -> torch.Tensor:
        """No typing head: uniform over kinds (the expected-type cue types answers instead)."""
        return torch.full((len(question), self._num_kinds), 1.0 / max(1, self._num_kinds))

    def topic_logits(self, question: torch.Tensor, link_features: torch.Tensor,
                     surface: torch.Tensor | None = None) -> torch.Tensor:
        """No topic head: every mention alike (link prior, salience and frame words decide)."""
        return torch.zeros(len(question))


class ZeroShotModel:
    """The catalog's paths and their description bank, in QAModel's shape."""

    trained = False

    def __init__(self, config: QAConfig, paths: list[RelationPath], bank, kinds: list[str]):
        self.config = config
        self.paths = list(paths)
        self.path_index = {p: i for i, p in enumerate(self.paths)}
        self.kinds = list(kinds)
        self.scorer = ZeroShotScorer(bank, len(kinds), config.path_text_scale,
                                     torch.tensor([len(p) for p in self.paths]), config.hop_penalty,
                                     config.side_weight)
        self.gnn = None

    def eval(self) -> ZeroShotModel:
        return self


def zero_shot_config(config: QAConfig | None = None) -> QAConfig:
    """A copy of ``config`` (default QAConfig) without the parts that need training (GNN)."""
    from dataclasses import replace

    return replace(config or QAConfig(), gnn_weight=0.0, topic_surface=False)


def path_descriptions(kg, paths: list[RelationPath]) -> list[list[str]]:
    """Each path's descriptions: more for short paths (a question names one step in many ways)."""
    from kgnlu.qa.graph_profile import GraphProfile
    from kgnlu.qa.path_text import describe_path

    profile = GraphProfile(kg)
    return [describe_path(kg, p, limit=DESCRIPTIONS_PER_HOPS[len(p)], profile=profile) for p in paths]


def build_zero_shot(kg, encode, config: QAConfig | None = None, cache_dir: Path | None = None,
                    report=log.info) -> ZeroShotModel:
    """The zero-shot model of ``kg``; ``encode`` (texts → float32 unit rows) embeds descriptions.
    With ``cache_dir`` the catalog and description bank are read from / written to it (rebuilt
    whenever the graph or the descriptions' wording changed)."""
    from kgnlu.qa.path_catalog import CatalogConfig, path_catalog
    from kgnlu.qa.path_matching import DescriptionBank

    cfg = zero_shot_config(config)
    catalog_cfg = CatalogConfig(max_answers=cfg.zero_shot_max_answers)
    cached = _read_cache(cache_dir, kg, catalog_cfg) if cache_dir else None
    if cached is not None:
        paths, descriptions, folder = cached
        if _digest(descriptions) == json.loads((folder / "meta.json").read_text(encoding="utf-8"))["descriptions"]:
            try:
                return ZeroShotModel(cfg, paths, DescriptionBank.load(folder, len(paths)), kg.kinds)
            except (OSError, ValueError) as err:
                log.warning("qa: zero-shot cache %s unreadable (%s); rebuilding", folder, err)
    else:
        paths = [s.path for s in path_catalog(kg, catalog_cfg)]
        descriptions = path_descriptions(kg, paths)
    report(f"qa: zero-shot model of {kg.name}: {len(paths)} relation paths, "
           f"{sum(map(len, descriptions))} descriptions to embed (once; cached) ...")
    bank = DescriptionBank.build(descriptions, encode, "something")
    if cache_dir:
        _write_cache(cache_dir, kg, catalog_cfg, paths, descriptions, bank)
    return ZeroShotModel(cfg, paths, bank, kg.kinds)


def _digest(descriptions: list[list[str]]) -> str:
    import hashlib

    return hashlib.sha256(json.dumps(descriptions).encode()).hexdigest()


def default_cache_dir(kg, encoder_tag: str) -> Path:
    from kgnlu.kg.build import kgnlu_home
    from kgnlu.qa.storage import graph_checksum

    return kgnlu_home() / "cache" / "qa" / f"{graph_checksum(kg).split(':')[-1][:16]}-{encoder_tag}"


def _read_cache(folder: Path, kg, catalog_cfg) -> tuple[list[RelationPath], list[list[str]], Path] | None:
    """(paths, their descriptions as this code words them, folder) of a cache built for this graph
    and catalog configuration, else None; the caller compares the descriptions' digest."""
    from dataclasses import asdict

    from kgnlu.qa.storage import graph_checksum

    meta_path = folder / "meta.json"
    if not meta_path.is_file():
        return None
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        if (meta.get("version") != CACHE_VERSION or meta.get("graph") != graph_checksum(kg)
                or meta.get("catalog") != asdict(catalog_cfg)):
            return None
        paths = [RelationPath.from_symbols(s) for s in meta["paths"]]
        if any(r >= kg.num_relations for p in paths for r, _ in p.steps):
            return None
    except (OSError, ValueError, KeyError, TypeError):
        return None  # a damaged cache is rebuilt, never trusted
    return paths, path_descriptions(kg, paths), folder


def _write_cache(folder: Path, kg, catalog_cfg, paths: list[RelationPath], descriptions: list[list[str]],
                 bank) -> None:
    from dataclasses import asdict

    from kgnlu.io import atomic_directory
    from kgnlu.qa.storage import graph_checksum

    try:
        with atomic_directory(folder) as staging:
            bank.save(staging)
            meta = {"version": CACHE_VERSION, "graph": graph_checksum(kg), "graph_name": kg.name,
                    "catalog": asdict(catalog_cfg), "descriptions": _digest(descriptions),
                    "paths": [p.symbols() for p in paths]}
            (staging / "meta.json").write_text(json.dumps(meta) + "\n", encoding="utf-8")
    except OSError as err:  # a read-only home only costs the next start the same work
        log.warning("qa: could not cache the zero-shot model in %s (%s)", folder, err)
