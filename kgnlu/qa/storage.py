"""A trained KGQA model on disk: ``qa.json`` (config, vocabularies, the graph's checksum, how to
get the encoder), ``model.safetensors`` (weights), optionally ``encoder/`` + ``tokenizer/`` when
the question encoder is not the packaged MiniLM. JSON and safetensors only: loading runs no code.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from safetensors.torch import save_file

from kgnlu.config import to_dict
from kgnlu.errors import QAError
from kgnlu.integrity import write_checksums
from kgnlu.io import atomic_directory, load_tensors
from kgnlu.qa.config import QAConfig
from kgnlu.qa.model import QAModel
from kgnlu.qa.paths import RelationPath
from kgnlu.qa.step_counts import StepCountPrior

FORMAT, VERSION = "kgnlu-qa", 1
CONFIG_FILE, WEIGHTS_FILE = "qa.json", "model.safetensors"
ENCODER_CLASSES = ("Encoder", "KGEncoder")  # the only classes a saved QA model may name
LEGACY_CONFIG_KEYS = ("path_text_limit",)  # knobs older models saved that no longer exist


def graph_checksum(kg) -> str:
    """sha256 over the manifest's per-file sha256 sums: changes whenever any graph file does."""
    files = json.dumps(kg.manifest.get("files", {}), sort_keys=True).encode()
    return "sha256:" + hashlib.sha256(files).hexdigest()


def save_model(model: QAModel, folder: str | Path, kg, encoder_spec: dict, encoder=None, tokenizer=None,
               extra: dict | None = None) -> Path:
    """Write atomically. ``encoder_spec`` {"kind": "minilm"} needs nothing else; {"kind": "saved"}
    writes ``encoder`` (its ``save_pretrained``) and ``tokenizer`` (its ``save``) beside the weights."""
    folder = Path(folder)
    with atomic_directory(folder) as staging:
        spec = dict(encoder_spec)
        if spec.get("kind") == "saved":
            if encoder is None or tokenizer is None or not hasattr(encoder, "save_pretrained"):
                raise QAError("saving a KGQA model with a custom encoder needs the encoder (with "
                              "save_pretrained) and its tokenizer")
            encoder.save_pretrained(staging / "encoder")
            tokenizer.save(staging / "tokenizer")
            spec["class"] = type(encoder).__name__
        state = {k: v.detach().contiguous() for k, v in model.state_dict().items()}
        save_file(state, str(staging / WEIGHTS_FILE))
        rerank = {}
        stage = getattr(model, "rerank", None)
        if stage is not None:  # only the layers it runs and its head (kgnlu.qa.reranker)
            stage.reranker.save(staging)
            rerank = {"rerank": {"layers": stage.reranker.layers, "descriptions": stage.descriptions}}
        meta = {"format": FORMAT, "version": VERSION, "config": to_dict(model.config),
                **model.metadata(), "graph": {"name": kg.name, "checksum": graph_checksum(kg)},
                "encoder": spec, **rerank, **(extra or {})}
        (staging / CONFIG_FILE).write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")
        write_checksums(staging)  # the weights and the reranker's
    return folder


def read_meta(folder: str | Path) -> dict:
    folder = Path(folder)
    path = folder / CONFIG_FILE
    if not path.is_file():
        raise QAError(f"{folder} is not a KGQA model (no {CONFIG_FILE}); train one with "
                      "`kgnlu qa train GRAPH --data DIR --out DIR`")
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise QAError(f"{path} is not valid JSON ({err.msg}); retrain or restore the model") from None
    if meta.get("format") != FORMAT or meta.get("version") != VERSION:
        raise QAError(f"{path} is not a {FORMAT} v{VERSION} model; retrain it with this kgnlu")
    return meta


def load_model(folder: str | Path, kg) -> tuple[QAModel, dict]:
    """The model and its metadata; a graph other than the one it was trained on raises QAError."""
    folder = Path(folder)
    meta = read_meta(folder)
    want, have = meta["graph"]["checksum"], graph_checksum(kg)
    if want != have:
        raise QAError(f"{folder} was trained on graph {meta['graph']['name']!r} ({want[:19]}…), not on "
                      f"{kg.path} ({have[:19]}…); load it with the graph it was trained on, or retrain "
                      "with `kgnlu qa train`")
    config = QAConfig.from_dict({k: v for k, v in meta["config"].items() if k not in LEGACY_CONFIG_KEYS})
    if "topic_surface" not in meta["config"]:
        config.topic_surface = False  # saved before the topic head read mention embeddings
    paths = [RelationPath.from_symbols(s) for s in meta["paths"]]
    try:
        state = load_tensors(folder / WEIGHTS_FILE)
    except (OSError, ValueError) as err:
        raise QAError(f"{folder / WEIGHTS_FILE} cannot be read ({err}); retrain or restore the model") from None
    text = state.get("scorer.members.0.relation_text")
    if text is None:
        raise QAError(f"{folder / WEIGHTS_FILE} lacks the relation-name embeddings; retrain the model")
    bank = None
    if "scorer.bank_whole" in state:
        from kgnlu.qa.path_matching import DescriptionBank

        bank = DescriptionBank.from_arrays(state["scorer.bank_owner"].numpy(), state["scorer.bank_whole"].float().numpy(),
                                           len(paths), where=str(folder / WEIGHTS_FILE))
    elif "mlp_weight" not in meta["config"]:
        config.hop_penalty = 0.0  # saved before the description bank: scores as it did
    # models saved before the zero-shot path expert have no prototypes: they score as they did
    model = QAModel(config, paths, meta["relation_ids"], meta["kinds"], text[:-1], state.get("scorer.path_text"),
                    bank)
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as err:
        raise QAError(f"{folder / WEIGHTS_FILE} does not fit its {CONFIG_FILE}: {err}") from None
    # absent in models saved before the prior
    model.scorer.step_prior = StepCountPrior.from_dict(meta.get("step_counts"), where=str(folder / CONFIG_FILE))
    model.rerank = _load_rerank(folder, meta.get("rerank"), len(paths))
    return model.eval(), meta


def _load_rerank(folder: Path, spec, num_paths: int):
    """The saved reranker stage (None for models saved without one); a malformed entry raises QAError."""
    if spec is None:
        return None
    from kgnlu.qa.reranker import PathReranker, RerankStage

    where = folder / CONFIG_FILE
    if not isinstance(spec, dict) or not isinstance(spec.get("layers"), int) or not 1 <= spec["layers"] <= 6:
        raise QAError(f"{where}: 'rerank' must hold 'layers' (1-6) and 'descriptions'; retrain the model")
    descriptions = spec.get("descriptions")
    if not (isinstance(descriptions, list) and len(descriptions) == num_paths
            and all(isinstance(d, str) for d in descriptions)):
        raise QAError(f"{where}: 'rerank.descriptions' must be one string per path ({num_paths}); retrain the model")
    return RerankStage(PathReranker.load(folder, spec["layers"]), descriptions)


def load_encoder(folder: str | Path, meta: dict):
    """(encoder, tokenizer) as the saved model says: the packaged MiniLM or its own copy."""
    spec = meta.get("encoder", {"kind": "minilm"})
    if spec.get("kind") == "minilm":
        from kgnlu.data.tokenizer import load_minilm_tokenizer
        from kgnlu.encoders import load_minilm

        return load_minilm(), load_minilm_tokenizer()
    if spec.get("kind") != "saved" or spec.get("class") not in ENCODER_CLASSES:
        raise QAError(f"{folder}: unknown encoder spec {spec!r}; pass encoder= and tokenizer= to KGQA.load")
    from kgnlu.data.tokenizer import Tokenizer

    folder = Path(folder)
    if spec["class"] == "KGEncoder":
        from kgnlu.fusion.kg_encoder import KGEncoder

        encoder = KGEncoder.from_pretrained(folder / "encoder")
    else:
        from kgnlu.encoders import Encoder

        encoder = Encoder.from_pretrained(folder / "encoder")
    return encoder, Tokenizer.load(folder / "tokenizer")

