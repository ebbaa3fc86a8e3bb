"""TinyBERT's data augmentation (Algorithm 1): replacement rate, candidate sources, example count."""

import dataclasses
import random

import pytest
import torch

from kgnlu.data.tokenizer import load_minilm_tokenizer
from kgnlu.distill.augmentation import CandidateSource, augment_examples, draw_copies, split_words
from kgnlu.encoders import load_minilm
from kgnlu.encoders.heads import MaskedLMHead
from kgnlu.errors import DistillationError


@dataclasses.dataclass(frozen=True)
class Example:
    text: str
    label: int


@pytest.fixture(scope="module")
def source():
    torch.manual_seed(0)
    encoder, tokenizer = load_minilm(), load_minilm_tokenizer()
    head = MaskedLMHead(encoder.config, encoder).eval()  # untrained but real: candidates = its top K
    synonyms = {"domesticated": ["tame", "tamed"]}  # a small WordNet-shaped table
    return CandidateSource(tokenizer, encoder, head, k=5, synonyms=synonyms)


def test_each_word_is_replaced_with_probability_p_and_only_by_its_candidates():
    words = ["a", "big", "cat", "sat"]
    candidates = {1: ["large", "huge"], 2: ["dog"]}  # 0 and 3 have none: never replaced
    copies = draw_copies(words, candidates, copies=4000, p_replace=0.4, rng=random.Random(1))
    assert len(copies) == 4000
    for i in (1, 2):
        replaced = [c[i] for c in copies if c[i] != words[i]]
        assert set(replaced) <= set(candidates[i])
        assert len(replaced) / 4000 == pytest.approx(0.4, abs=0.03)  # 3 s.e. of a binomial(4000, 0.4) ≈ 0.023
    assert all(c[0] == "a" and c[3] == "sat" for c in copies)
    assert {c[1] for c in copies} == {"big", "large", "huge"}  # uniform draws reach every candidate
    assert all(c == words for c in draw_copies(words, candidates, copies=50, p_replace=0.0, rng=random.Random(2)))


def test_single_piece_words_take_the_mlm_top_k_at_their_masked_position(source):
    words = split_words(source.tokenizer, "A domesticated animal kept as a pet.")
    assert words == ["a", "domesticated", "animal", "kept", "as", "a", "pet", "."]
    assert [len(source.pieces(w)) for w in words] == [1, 2, 1, 1, 1, 1, 1, 1]
    candidates = source.candidates(words)
    # stop words ("a", "as") and punctuation are left alone, as in the released code
    assert sorted(candidates) == [1, 2, 3, 6]
    # "pet" (word 6) by hand: [CLS] a domesticated(2 pieces) animal kept as a [MASK] . [SEP] → head → top 5 whole words
    tok = source.tokenizer
    ids = [tok.token_id("cls")] + [i for w in words for i in source.pieces(w)] + [tok.token_id("sep")]
    position = 1 + 1 + 2 + 1 + 1 + 1 + 1  # after [CLS] a domesticated(2) animal kept as a
    labels = torch.full((1, len(ids)), -100)
    labels[0, position] = ids[position]
    ids[position] = tok.mask_id
    with torch.no_grad():
        logits = source.mlm_head(source.encoder(torch.tensor([ids]), torch.ones(1, len(ids), dtype=torch.long)),
                                 labels).logits[0]
    whole = [i for i in logits.argsort(descending=True).tolist() if source.whole_words[i]][:5]
    assert candidates[6] == [source.vocab[i] for i in whole]


def test_multi_piece_words_take_synonyms_then_embedding_neighbours(source):
    candidates = source.neighbour_candidates("domesticated")
    assert candidates[:2] == ["tame", "tamed"] and len(candidates) == 5
    assert candidates[2:] == [w for w in source.embedding_neighbours("domesticated", 7) if w not in ("tame", "tamed")][:3]
    # the embedding neighbours are the nearest whole words to the mean of the word's piece embeddings
    e = source.unit_embeddings
    query = e[source.pieces("domesticated")].mean(0)
    best = source.vocab[int(((e @ query).masked_fill(~source.whole_words, -9)).argmax())]
    assert source.embedding_neighbours("domesticated", 1) == [best]


def test_augmented_set_is_the_originals_plus_n_a_copies_each_with_labels_kept(source):
    examples = [Example("a domesticated animal kept as a pet", 3), Example("a large wild cat", 7)]
    out = augment_examples(examples, source, copies=4, p_replace=0.4, seed=0)
    assert len(out) == 2 * (1 + 4)
    assert out[:2] == examples
    assert [e.label for e in out[2:]] == [3] * 4 + [7] * 4
    for copy, original in zip(out[2:6], [examples[0]] * 4, strict=True):
        words, base = copy.text.split(), split_words(source.tokenizer, original.text)
        allowed = source.candidates(base)
        assert len(words) == len(base)
        assert all(w == b or w in allowed.get(i, []) for i, (w, b) in enumerate(zip(words, base, strict=True)))
    with pytest.raises(DistillationError):
        augment_examples(examples, source, copies=-1)
