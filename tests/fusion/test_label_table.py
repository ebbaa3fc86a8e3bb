"""Label-augmented entity tables: the mean word embedding of each label, saved where a KGEncoder reads it."""

from __future__ import annotations

import json

import pytest
import torch

from kgnlu.errors import ConfigError
from kgnlu.fusion.kg_encoder import load_entity_table
from kgnlu.fusion.label_table import label_embeddings, save_entity_table


class SplitTokenizer:
    """Word i of a fixed vocabulary → id i (unknown words are skipped)."""

    vocab = {"new": 0, "york": 1, "city": 2, "paris": 3}

    def encode(self, text, add_special_tokens=True):
        return [self.vocab[w] for w in text.lower().split() if w in self.vocab]


def test_label_embedding_is_the_mean_of_its_word_rows():
    words = torch.arange(8.0).reshape(4, 2)  # rows (0, 1), (2, 3), (4, 5), (6, 7)
    table = label_embeddings(["New York City", "Paris", "", "Zzz"], SplitTokenizer(), words)
    assert table.shape == (4, 2)
    assert table[0].tolist() == [2.0, 3.0]  # mean of rows 0, 1, 2
    assert table[1].tolist() == [6.0, 7.0]
    assert table[2].tolist() == [0.0, 0.0] and table[3].tolist() == [0.0, 0.0]  # no known piece
    assert label_embeddings(["New York City"], SplitTokenizer(), words, max_pieces=1)[0].tolist() == [0.0, 1.0]
    with pytest.raises(ConfigError):
        label_embeddings(["Paris"], SplitTokenizer(), torch.zeros(4))


def test_saved_table_loads_as_an_entity_table(tmp_path):
    table = torch.randn(5, 3)
    folder = save_entity_table(table, tmp_path / "joined", {"kge": "rotate"})
    loaded, reference = load_entity_table(folder)
    assert torch.equal(loaded, table)
    assert reference["shape"] == [5, 3]
    assert json.loads((folder / "table.json").read_text()) == {"shape": [5, 3], "kge": "rotate"}
    assert not list(folder.glob("*.tmp"))
    with pytest.raises(ConfigError):
        save_entity_table(torch.zeros(3), tmp_path / "bad", {})
