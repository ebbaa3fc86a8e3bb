"""Hugging Face interop: tiny random HF models made here (never downloaded) load with equal
outputs; our BERT/ALBERT/ELECTRA/GPT-2 shapes save to folders transformers.AutoModel opens."""

from __future__ import annotations

import json

import pytest
import torch
import transformers
from safetensors.torch import save_file

from kgnlu.encoders import Encoder
from kgnlu.errors import CheckpointError, ExportError

from .conftest import ragged_batch, tiny

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

COMMON = dict(vocab_size=97, hidden_size=32, num_hidden_layers=3, num_attention_heads=4, intermediate_size=64,
              max_position_embeddings=40)


def hf_models():
    return {
        "bert": transformers.BertModel(transformers.BertConfig(**COMMON)),
        "electra": transformers.ElectraModel(transformers.ElectraConfig(embedding_size=16, **COMMON)),
        "albert-all": transformers.AlbertModel(transformers.AlbertConfig(embedding_size=16, **COMMON)),
        "albert-none": transformers.AlbertModel(transformers.AlbertConfig(embedding_size=16, num_hidden_groups=3,
                                                                          **COMMON)),
        "gpt2": transformers.GPT2Model(transformers.GPT2Config(vocab_size=97, n_embd=32, n_layer=3, n_head=4,
                                                               n_positions=40)),
        "bert-for-pretraining": transformers.BertForPreTraining(transformers.BertConfig(**COMMON)),
    }


def hf_hidden(model, ids, mask):
    with torch.no_grad():
        return model(input_ids=ids, attention_mask=mask).last_hidden_state


@pytest.mark.parametrize("name", ["bert", "electra", "albert-all", "albert-none", "gpt2", "bert-for-pretraining"])
def test_hf_checkpoints_load_with_equal_outputs(name, tmp_path):
    torch.manual_seed(0)
    model = hf_models()[name].eval()
    model.save_pretrained(tmp_path)  # safetensors + config.json, local
    ours = Encoder.from_pretrained(tmp_path).eval()
    base = model.bert if name == "bert-for-pretraining" else model
    ids, mask = ragged_batch()
    if name == "gpt2":
        mask = torch.ones_like(mask)  # GPT-2 batches are left unpadded here: its positions count pads too
    with torch.no_grad():
        ours_out = ours(input_ids=ids, attention_mask=mask)
    real = mask.bool()
    torch.testing.assert_close(ours_out.last_hidden_state[real], hf_hidden(base, ids, mask)[real], atol=1e-5, rtol=0)
    expected_sharing = "all" if name == "albert-all" else "none"
    assert ours.config.sharing == expected_sharing


@pytest.mark.parametrize("shape, sharing, model_type", [
    ("bert", "none", "bert"), ("albert", "all", "albert"), ("albert", "none", "albert"),
    ("bert", "all", "albert"), ("electra", "none", "electra"), ("gpt2", "none", "gpt2")])
def test_save_pretrained_opens_in_transformers_with_equal_outputs(shape, sharing, model_type, tmp_path):
    torch.manual_seed(0)
    ours = Encoder(tiny(shape, sharing=sharing)).eval()
    ours.save_pretrained(tmp_path / "model")
    assert json.loads((tmp_path / "model" / "config.json").read_text())["model_type"] == model_type
    theirs = transformers.AutoModel.from_pretrained(tmp_path / "model", attn_implementation="eager").eval()
    ids, mask = ragged_batch()
    if shape == "gpt2":
        mask = torch.ones_like(mask)
    real = mask.bool()
    with torch.no_grad():
        ours_out = ours(input_ids=ids, attention_mask=mask)
        theirs_out = theirs(input_ids=ids, attention_mask=mask)
    torch.testing.assert_close(ours_out.last_hidden_state[real], theirs_out.last_hidden_state[real], atol=1e-5, rtol=0)
    if ours_out.pooler_output is not None:
        torch.testing.assert_close(ours_out.pooler_output, theirs_out.pooler_output, atol=1e-5, rtol=0)
    # and back here, unchanged
    again = Encoder.from_pretrained(tmp_path / "model").eval()
    with torch.no_grad():
        torch.testing.assert_close(again(input_ids=ids, attention_mask=mask).last_hidden_state,
                                   ours_out.last_hidden_state, atol=1e-6, rtol=0)


@pytest.mark.parametrize("sharing", ["ffn", "attention"])
def test_shapes_hf_cannot_express_save_natively_and_refuse_export(sharing, tmp_path):
    torch.manual_seed(0)
    ours = Encoder(tiny("albert", sharing=sharing)).eval()
    ours.save_pretrained(tmp_path / "native")
    assert (tmp_path / "native" / "kgnlu_encoder.json").is_file()
    assert not (tmp_path / "native" / "config.json").exists()
    loaded = Encoder.from_pretrained(tmp_path / "native").eval()
    assert loaded.config == ours.config
    ids, mask = ragged_batch()
    with torch.no_grad():
        torch.testing.assert_close(loaded(input_ids=ids, attention_mask=mask).last_hidden_state,
                                   ours(input_ids=ids, attention_mask=mask).last_hidden_state, atol=0, rtol=0)
    with pytest.raises(ExportError, match=f"sharing='{sharing}'"):
        ours.save_pretrained(tmp_path / "hf", hf_format=True)
    assert not (tmp_path / "hf").exists()  # nothing half-written


def test_native_format_on_request_and_overrides(tmp_path):
    ours = Encoder(tiny("bert"))
    ours.save_pretrained(tmp_path / "m", hf_format=False)
    loaded = Encoder.from_pretrained(tmp_path / "m", attention_backend="eager", hidden_dropout=0.0)
    assert loaded.config.attention_backend == "eager" and loaded.config.hidden_dropout == 0.0
    with pytest.raises(Exception, match="cannot override"):
        Encoder.from_pretrained(tmp_path / "m", hidden_size=64)


def test_save_replaces_an_existing_folder_atomically(tmp_path):
    target = tmp_path / "m"
    Encoder(tiny("bert")).save_pretrained(target)
    (target / "stale.txt").write_text("old")
    second = Encoder(tiny("bert", num_layers=2))
    second.save_pretrained(target)
    assert not (target / "stale.txt").exists()
    assert Encoder.from_pretrained(target).config.num_layers == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m"]  # no staging folders left behind


def test_pickle_checkpoints_are_refused(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "bert", **COMMON}))
    (tmp_path / "pytorch_model.bin").write_bytes(b"not loaded")
    with pytest.raises(CheckpointError, match="pickle"):
        Encoder.from_pretrained(tmp_path)


def test_mismatched_or_unknown_checkpoints_say_so(tmp_path):
    torch.manual_seed(0)
    Encoder(tiny("bert")).save_pretrained(tmp_path / "m")
    config = json.loads((tmp_path / "m" / "config.json").read_text())
    (tmp_path / "m" / "config.json").write_text(json.dumps({**config, "num_hidden_layers": 4}))
    with pytest.raises(CheckpointError, match="lacks tensor"):
        Encoder.from_pretrained(tmp_path / "m")
    (tmp_path / "m" / "config.json").write_text(json.dumps({**config, "model_type": "t5"}))
    with pytest.raises(CheckpointError, match="t5"):
        Encoder.from_pretrained(tmp_path / "m")
    with pytest.raises(CheckpointError, match="not a checkpoint folder"):
        Encoder.from_pretrained(tmp_path / "nowhere")


def test_legacy_gamma_beta_names_load(tmp_path):
    torch.manual_seed(0)
    model = transformers.BertModel(transformers.BertConfig(**COMMON)).eval()
    model.save_pretrained(tmp_path)
    from safetensors.torch import load_file

    tensors = {k.replace("LayerNorm.weight", "LayerNorm.gamma").replace("LayerNorm.bias", "LayerNorm.beta"): v
               for k, v in load_file(tmp_path / "model.safetensors").items()}
    save_file(tensors, tmp_path / "model.safetensors", metadata={"format": "pt"})
    ours = Encoder.from_pretrained(tmp_path).eval()
    ids, mask = ragged_batch()
    real = mask.bool()
    with torch.no_grad():
        torch.testing.assert_close(ours(input_ids=ids, attention_mask=mask).last_hidden_state[real],
                                   hf_hidden(model, ids, mask)[real], atol=1e-5, rtol=0)
