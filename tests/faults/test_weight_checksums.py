"""A byte flipped inside saved weights is an E031 CheckpointError on load, naming the file (issue 19,
item 4: safetensors checks its header, not the tensor bytes, so such a flip used to load silently).
Folders saved before checksums existed still load."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import pytest
import torch

from kgnlu.encoders import Encoder
from kgnlu.errors import CheckpointError
from kgnlu.integrity import CHECKSUMS
from tests.encoders.conftest import tiny


def flip_weight_byte(path: Path) -> None:
    """Flip one bit in the tensor data, past safetensors' header (8-byte length, then JSON)."""
    data = bytearray(path.read_bytes())
    (header,) = struct.unpack("<Q", data[:8])
    at = 8 + header + (len(data) - 8 - header) // 2
    data[at] ^= 0x01
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("hf_format", [True, False])
def test_an_encoder_with_a_flipped_weight_byte_is_refused(tmp_path, hf_format):
    torch.manual_seed(0)
    folder = Encoder(tiny("bert")).save_pretrained(tmp_path / "enc", hf_format=hf_format)
    assert (folder / CHECKSUMS).is_file()
    Encoder.from_pretrained(folder)  # untouched: loads
    flip_weight_byte(folder / "model.safetensors")
    with pytest.raises(CheckpointError, match=r"E031.*model\.safetensors does not match its sha256.*modified or "
                                              r"corrupted.*save the model again"):
        Encoder.from_pretrained(folder)


def test_a_folder_saved_before_checksums_loads_as_before(tmp_path):
    folder = Encoder(tiny("albert")).save_pretrained(tmp_path / "old")
    (folder / CHECKSUMS).unlink()
    assert isinstance(Encoder.from_pretrained(folder), Encoder)


def test_a_listing_without_the_file_is_refused(tmp_path):
    folder = Encoder(tiny("bert")).save_pretrained(tmp_path / "enc")
    listing = json.loads((folder / CHECKSUMS).read_text())
    listing["files"].clear()  # dropping the entry must not drop the check
    (folder / CHECKSUMS).write_text(json.dumps(listing))
    with pytest.raises(CheckpointError, match="lists no checksum for model.safetensors"):
        Encoder.from_pretrained(folder)


def test_a_training_checkpoint_with_a_flipped_byte_is_refused(tmp_path):
    from kgnlu.training.checkpoint import capture_rng, load_optimizer, load_weights, save_checkpoint

    model = torch.nn.Linear(16, 16)
    optimizer = torch.optim.AdamW(model.parameters())
    model(torch.ones(2, 16)).sum().backward()
    optimizer.step()
    folder = save_checkpoint(tmp_path / "step-00000001", model, optimizer, {"step": 1}, capture_rng())
    load_weights(folder, torch.nn.Linear(16, 16))
    for name, load in [("model.safetensors", lambda: load_weights(folder, torch.nn.Linear(16, 16))),
                       ("optimizer.safetensors", lambda: load_optimizer(folder, optimizer))]:
        flip_weight_byte(folder / name)
        with pytest.raises(CheckpointError, match=f"{name} does not match its sha256"):
            load()


def test_an_mlm_head_with_a_flipped_byte_is_refused(tmp_path):
    from kgnlu.distill.mlm_head import WEIGHTS, load_mlm_head, save_mlm_head
    from kgnlu.encoders.heads import MaskedLMHead

    encoder = Encoder(tiny("bert"))
    folder = save_mlm_head(MaskedLMHead(encoder.config, encoder), tmp_path / "head", {"hidden_size": 32, "vocab_size": 97})
    load_mlm_head(folder, encoder)
    flip_weight_byte(folder / WEIGHTS)
    with pytest.raises(CheckpointError, match="does not match its sha256"):
        load_mlm_head(folder, encoder)
