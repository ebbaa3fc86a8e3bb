"""KGEncoder: an encoder + an entity embedding table + injection layers inserted between its layers.

    kg = KGEncoder(Encoder.from_pretrained("minilm"), "graph/embeddings/transe",   # or a tensor (E, De)
                   inject={4: "kar", 6: "ernie"}, freeze_entities=True)
    out = kg(tokens.input_ids, tokens.attention_mask, entities=entities)          # entities: EntityInputs
    out.last_hidden_state (B, S, H); out.entity_states (B, M, De); out.candidate_logits (B, M, C)

``inject={k: kind}`` runs injection ``kind`` after the first ``k`` encoder layers: k = 0 is on the
embeddings (LUKE's entity tokens live there), k = L after the last layer (before GPT-2's final
LayerNorm). It works on every encoder shape (BERT, ALBERT in every sharing mode, ELECTRA, GPT-2
with causality kept, any student) because it drives the encoder's own pieces —
``Encoder.embed`` → ``layers.run_layer`` per layer → ``Encoder.finish`` — and never copies them.
With ``entities=None`` (or no entity linked in the batch) it *is* the plain encoder's forward.

Saved layout (:meth:`save_pretrained`): ``encoder/`` (Encoder.save_pretrained: Hugging Face's
layout where the shape has one), ``injections.safetensors``, ``kg_encoder.json`` (injection
map and options, entity-table record) and — when the table was trained or came from memory —
``entity_table.safetensors``; a frozen table read from a file is stored as a reference (path,
sha256, shape) and verified on load.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Union

import torch
from safetensors import safe_open
from safetensors.torch import save_file
from torch import nn

from kgnlu.encoders.config import EncoderConfig
from kgnlu.encoders.encoder import Encoder
from kgnlu.encoders.padding import Packing
from kgnlu.errors import CheckpointError, FusionError
from kgnlu.fusion.alignment import EntityInputs
from kgnlu.fusion.injection import INJECTIONS, FusionState, joint_attention_mask
from kgnlu.fusion.outputs import KGEncoderOutput
from kgnlu.integrity import file_sha256, verify_file, write_checksums
from kgnlu.io import atomic_directory, load_tensors
from kgnlu.kge.storage import TENSORS as KGE_TENSORS
from kgnlu.kge.storage import StoredEmbeddings

FORMAT, VERSION = "kgnlu-kg-encoder", 1
CONFIG_FILE, INJECTION_FILE, TABLE_FILE, ENCODER_DIR = (
    "kg_encoder.json", "injections.safetensors", "entity_table.safetensors", "encoder")

EntitySource = Union[torch.Tensor, nn.Embedding, StoredEmbeddings, str, Path]  # noqa: UP007


def load_entity_table(source: EntitySource) -> tuple[torch.Tensor, dict[str, Any] | None]:
    """An entity table (E, De) float and, when it came from a file, its reference
    ``{"path", "tensor", "sha256", "shape"}``. Files: a ``kgnlu kge train`` folder
    (``embeddings.safetensors``, tensor ``entity``) or any safetensors file with an ``entity``
    tensor or exactly one tensor."""
    if isinstance(source, nn.Embedding):
        return source.weight.detach().float().clone(), None
    if isinstance(source, torch.Tensor):
        return source.detach().float().clone(), None
    if isinstance(source, StoredEmbeddings):
        source = source.path
    path = Path(source)
    if path.is_dir():
        path = path / KGE_TENSORS
    if not path.is_file():
        raise FusionError(f"no entity table at {path}; train one with `kgnlu kge train GRAPH --name NAME` "
                          "and pass GRAPH/embeddings/NAME, or pass a tensor (E, De)")
    verify_file(path)  # a KGE table saved by kgnlu carries its sha256
    try:
        with safe_open(str(path), framework="pt") as f:
            names = list(f.keys())
            name = "entity" if "entity" in names else names[0] if len(names) == 1 else None
            if name is None:
                raise FusionError(f"{path} holds tensors {names}, none named 'entity'; say which is the entity table")
            table = f.get_tensor(name).float()
    except (OSError, ValueError, RuntimeError) as err:  # safetensors' own parse errors
        raise CheckpointError(f"cannot read the entity table {path}: {err}") from None
    if table.dim() != 2:
        raise FusionError(f"entity table {path}:{name} has shape {tuple(table.shape)}; it must be (E, De)")
    return table, {"path": str(path.resolve()), "tensor": name, "sha256": file_sha256(path),
                   "shape": list(table.shape)}


class KGEncoder(nn.Module):
    #: PretrainingModel passes batch["entity_*"] to encoders that say so
    accepts_entities = True

    @staticmethod
    def entities_from_batch(batch: Mapping[str, torch.Tensor]) -> EntityInputs:
        """The batch's ``entity_*`` tensors as the ``entities=`` input (what
        :class:`~kgnlu.encoders.objectives.model.PretrainingModel` passes, without importing fusion)."""
        return EntityInputs.from_batch(batch)

    def __init__(self, encoder: Encoder, entity_embeddings: EntitySource, inject: Mapping[int, str],
                 freeze_entities: bool = True, injection_options: Mapping[str, Mapping[str, Any]] | None = None):
        """``inject``: {k: kind}, kind from ``INJECTIONS`` after the first k layers (0 ≤ k ≤ L);
        ``freeze_entities``: keep the KG embeddings fixed (ERNIE) or train them with the encoder;
        ``injection_options``: {kind: {option: value}} passed to every injection of that kind."""
        super().__init__()
        layers = encoder.config.num_layers
        self.inject = {int(k): str(v) for k, v in dict(inject).items()}
        bad = sorted(k for k in self.inject if not 0 <= k <= layers)
        if bad:
            raise FusionError(f"injection layers {bad} are outside 0..{layers} for this {layers}-layer encoder "
                              "(k = inject after the first k layers)")
        kinds = [INJECTIONS.get(kind) for kind in self.inject.values()]  # unknown kinds raise here
        if sum(cls.appends_tokens for cls in kinds) > 1:
            raise FusionError("entity tokens can be appended once; use one 'entity_tokens' injection")
        self.injection_options = {kind: dict(opts) for kind, opts in dict(injection_options or {}).items()}
        stray = sorted(set(self.injection_options) - set(self.inject.values()))
        if stray:
            raise FusionError(f"injection_options for {stray}, which no layer uses ({sorted(set(self.inject.values()))})")
        table, self.entity_source = load_entity_table(entity_embeddings)
        self.encoder = encoder
        self.entity_embeddings = nn.Embedding.from_pretrained(table, freeze=freeze_entities)
        self.freeze_entities = freeze_entities
        entity_size = table.shape[1]
        try:
            self.injections = nn.ModuleDict({
                str(k): INJECTIONS.get(kind)(encoder.config, entity_size, encoder, **self.injection_options.get(kind, {}))
                for k, kind in sorted(self.inject.items())})
        except TypeError as err:
            raise FusionError(f"bad injection options {self.injection_options}: {err}") from None

    # ------------------------------------------------------------------ the encoder's surface
    @property
    def config(self) -> EncoderConfig:
        return self.encoder.config

    @property
    def embeddings(self) -> nn.Module:
        return self.encoder.embeddings

    def get_input_embeddings(self) -> nn.Embedding:
        return self.encoder.get_input_embeddings()

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())

    # ------------------------------------------------------------------ forward
    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None,
                token_type_ids: torch.Tensor | None = None, entities: EntityInputs | None = None,
                output_hidden_states: bool = False, output_attentions: bool = False,
                position_ids: torch.Tensor | None = None, padding_free: bool | None = None) -> KGEncoderOutput:
        """input_ids, attention_mask, token_type_ids: (B, S); entities: (B, M, ...) from an Aligner.

        ``hidden_states`` (on request): L+1 tensors (B, S, H) over the words — the embeddings, then
        each layer's output after the injections placed behind it.
        """
        encoder = self.encoder
        if entities is None or not self.inject or not bool(entities.entity_mask.any()):
            plain = encoder(input_ids, attention_mask, token_type_ids, position_ids, output_hidden_states,
                            output_attentions, padding_free)
            return KGEncoderOutput(plain.last_hidden_state, plain.pooler_output, plain.hidden_states, plain.attentions)
        batch, seq_len = input_ids.shape
        entities.validate(seq_len, self.entity_embeddings.num_embeddings)
        if entities.entity_ids.shape[0] != batch:
            raise FusionError(f"entities have {entities.entity_ids.shape[0]} rows, the tokens {batch}")
        word_mask = (torch.ones_like(input_ids, dtype=torch.bool) if attention_mask is None
                     else attention_mask.bool())  # (B, S)
        use_packing = encoder.config.padding_free if padding_free is None else padding_free
        state = FusionState(entities, self.entity_embeddings, encoder.config.causal)

        x, packing, mask = encoder.embed(input_ids, attention_mask, token_type_ids, position_ids, padding_free)
        x, packing, mask = self._inject(0, x, packing, mask, word_mask, state, use_packing)
        hidden = [packing.unpack(x)[:, :seq_len]] if output_hidden_states else []
        probs = []
        aware = next((i.entity_aware for i in self.injections.values() if getattr(i, "entity_aware", None)), None)
        for index in range(encoder.config.num_layers):
            if aware is not None and state.appended:  # LUKE's entity-aware attention over words + entities
                x, layer_probs = aware.run_layer(encoder.layers, index, x, packing, mask, seq_len, output_attentions)
            else:
                x, layer_probs = encoder.layers.run_layer(index, x, packing, mask, output_attentions)
            x, packing, mask = self._inject(index + 1, x, packing, mask, word_mask, state, use_packing)
            if output_hidden_states:
                hidden.append(packing.unpack(x)[:, :seq_len])
            if output_attentions:
                probs.append(layer_probs[:, :, :seq_len, :seq_len])
        out = encoder.finish(x, packing, x, [], [], False, False)  # final norm, unpack, pooler (first token)
        last = out.last_hidden_state  # (B, S [+ M], H)
        words = last[:, :seq_len]
        if output_hidden_states and encoder.final_norm is not None:  # HF: the last entry is after the final norm
            hidden[-1] = words
        return KGEncoderOutput(
            last_hidden_state=words, pooler_output=out.pooler_output,
            hidden_states=tuple(hidden) if output_hidden_states else None,
            attentions=tuple(probs) if output_attentions else None,
            entity_states=last[:, seq_len:] if state.appended else state.entity_states,
            candidate_logits=state.candidate_logits)

    def _inject(self, index: int, x: torch.Tensor, packing: Packing, mask: torch.Tensor | None,
                word_mask: torch.Tensor, state: FusionState, use_packing: bool
                ) -> tuple[torch.Tensor, Packing, torch.Tensor | None]:
        """Run the injection after layer ``index`` (if any) on the unpacked (B, S [+ M], H) states."""
        injection = self.injections[str(index)] if str(index) in self.injections else None
        if injection is None:
            return x, packing, mask
        seq_len = word_mask.shape[1]
        hidden = packing.unpack(x)  # (B, S [+ M], H)
        words, extra = hidden[:, :seq_len], hidden[:, seq_len:]
        updated = injection(words, word_mask, state)
        if not injection.appends_tokens:
            hidden = torch.cat([updated, extra], dim=1) if extra.shape[1] else updated
            return packing.pack(hidden), packing, mask
        entities = state.entities
        keys = torch.cat([word_mask, entities.entity_mask], dim=1)  # (B, S + M)
        batch, total = keys.shape
        packing = Packing.from_mask(keys) if use_packing else Packing.dense(batch, total, keys)
        mask = joint_attention_mask(word_mask, entities.entity_mask, entities.spans, state.causal)
        return packing.pack(updated), packing, mask

    # ------------------------------------------------------------------ checkpoints
    def save_pretrained(self, path: str | Path, hf_format: bool | None = None) -> Path:
        """Write ``path/`` atomically (layout in the module docstring); ``hf_format`` as Encoder's."""
        target = Path(path)
        table_record: dict[str, Any]
        if self.freeze_entities and self.entity_source is not None:
            table_record = dict(self.entity_source)
        else:
            table_record = {"file": TABLE_FILE, "shape": list(self.entity_embeddings.weight.shape)}
        meta = {"format": FORMAT, "version": VERSION, "inject": {str(k): v for k, v in sorted(self.inject.items())},
                "injection_options": self.injection_options, "freeze_entities": self.freeze_entities,
                "entity_table": table_record}
        with atomic_directory(target) as staging:
            self.encoder.save_pretrained(staging / ENCODER_DIR, hf_format)
            state = {k: v.detach().cpu().clone().contiguous() for k, v in self.injections.state_dict().items()}
            save_file(state, str(staging / INJECTION_FILE), metadata={"format": FORMAT})
            if "file" in table_record:
                save_file({"entity": self.entity_embeddings.weight.detach().cpu().contiguous()},
                          str(staging / TABLE_FILE), metadata={"format": FORMAT})
            (staging / CONFIG_FILE).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
            write_checksums(staging)
        return target

    @classmethod
    def from_pretrained(cls, path: str | Path, entity_embeddings: EntitySource | None = None,
                        **overrides: Any) -> KGEncoder:
        """Load a folder written by :meth:`save_pretrained`. A referenced table is read from its
        recorded path (or from ``entity_embeddings`` when it moved) and must match the recorded
        sha256 and shape. ``overrides`` go to ``Encoder.from_pretrained`` (speed-only fields, dropouts)."""
        folder = Path(path)
        if not (folder / CONFIG_FILE).is_file():
            raise CheckpointError(f"{folder} has no {CONFIG_FILE}; save one with KGEncoder.save_pretrained")
        try:
            meta = json.loads((folder / CONFIG_FILE).read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as err:
            raise CheckpointError(f"cannot read {folder / CONFIG_FILE}: {err}") from None
        if meta.get("format") != FORMAT or meta.get("version") != VERSION:
            raise CheckpointError(f"{folder / CONFIG_FILE} is {meta.get('format')!r} v{meta.get('version')!r}; "
                                  f"this kgnlu reads {FORMAT} v{VERSION}")
        record, reference = meta["entity_table"], None
        if "file" in record:
            table = load_tensors(folder / record["file"])["entity"]
        else:
            table, reference = load_entity_table(entity_embeddings if entity_embeddings is not None else record["path"])
            if reference is None or reference["sha256"] != record["sha256"] or list(table.shape) != record["shape"]:
                raise CheckpointError(
                    f"the entity table {reference['path'] if reference else 'given'} is not the one {folder} was "
                    f"saved with (sha256 {record['sha256'][:12]}…, shape {record['shape']}); pass the original "
                    "file as entity_embeddings=")
        model = cls(Encoder.from_pretrained(folder / ENCODER_DIR, **overrides), table, meta["inject"],
                    meta["freeze_entities"], meta["injection_options"])
        model.entity_source = reference  # the table stays a reference when saved again
        try:
            result = model.injections.load_state_dict(load_tensors(folder / INJECTION_FILE), strict=False)
        except RuntimeError as err:
            raise CheckpointError(f"{folder / INJECTION_FILE} does not match {meta['inject']}: {err}") from None
        if result.missing_keys or result.unexpected_keys:
            raise CheckpointError(f"{folder / INJECTION_FILE} does not match {meta['inject']}: missing "
                                  f"{result.missing_keys[:5]}, unexpected {result.unexpected_keys[:5]}")
        return model
