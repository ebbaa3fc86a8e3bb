"""Alignment of linker output onto wordpieces: a property test over random texts and spans for
both tokenizer kinds, and the padding, truncation, candidate and error rules one by one."""

from __future__ import annotations

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kgnlu.data.tokenizer import train_byte_level_bpe, train_wordpiece
from kgnlu.errors import FusionError
from kgnlu.fusion import Aligner
from kgnlu.kg.linker.link import Candidate, Link

CORPUS = ["Paris is the capital of France and Lyon is a city in France.",
          "The river Seine flows through Paris; the café near the bridge is old.",
          "A dog is a domesticated carnivorous mammal, the dog's friend is a cat."] * 10


@pytest.fixture(scope="module")
def tokenizers():
    return {"wordpiece": train_wordpiece(CORPUS, vocab_size=150, min_frequency=1),
            "byte_bpe": train_byte_level_bpe(CORPUS, vocab_size=300, min_frequency=1)}


def overlapping(tokenizer, text: str, start: int, end: int, max_length: int | None) -> list[int]:
    """Tokens of ``text`` (segment 0) whose characters overlap [start, end), from the tokenizer alone."""
    _, offsets = tokenizer.encode_batch_with_offsets([text], max_length=max_length)
    return [t for t, ((s, e), seq) in enumerate(zip(offsets.offsets[0], offsets.sequence_ids[0], strict=True))
            if seq == 0 and s < end and e > start]


@st.composite
def texts_with_spans(draw):
    text = draw(st.text(alphabet="abcdefghij éü.,-'", min_size=1, max_size=60))
    cuts = sorted(set(draw(st.lists(st.integers(0, len(text)), max_size=12))))
    spans = [(cuts[i], cuts[i + 1]) for i in range(0, len(cuts) - 1, 2)]  # non-overlapping, start < end
    return text, spans, draw(st.integers(3, 30))


@pytest.mark.parametrize("kind", ["wordpiece", "byte_bpe"])
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=texts_with_spans())
def test_spans_cover_exactly_the_overlapping_tokens(tokenizers, kind, case):
    text, spans, max_length = case
    tokenizer = tokenizers[kind]
    links = [{"start": s, "end": e, "surface": text[s:e], "entity": f"e{i}", "score": 0.5}
             for i, (s, e) in enumerate(spans)]
    aligner = Aligner(tokenizer, {f"e{i}": i + 1 for i in range(len(spans))}, max_length=max_length,
                      max_entities=100)
    tokens, entities = aligner([text], [links])
    assert tokens.input_ids.shape[1] <= max_length
    kept = {int(entities.entity_ids[0, j]) - 1: entities.spans[0, j].tolist()
            for j in range(entities.num_entities) if entities.entity_mask[0, j]}
    for i, (s, e) in enumerate(spans):
        seen = overlapping(tokenizer, text, s, e, max_length)
        whole = overlapping(tokenizer, text, s, e, None)
        if i in kept:  # exactly the overlapping tokens, none of them lost to truncation
            assert list(range(*kept[i])) == seen and len(seen) == len(whole)
        else:  # dropped only when it overlaps no token, or truncation cut it
            assert not seen or len(seen) < len(whole)
    starts = [span[0] for span in kept.values()]
    assert starts == sorted(starts)  # slots in text order


def test_truncated_entity_is_dropped_not_shifted(tokenizers):
    tokenizer = tokenizers["wordpiece"]
    text = "Paris is the capital of France"
    links = [Link(0, 5, "Paris", "geo:paris", 0.9), Link(24, 30, "France", "geo:france", 0.8)]
    aligner = Aligner(tokenizer, {"geo:paris": 1, "geo:france": 2}, max_length=6)
    tokens, entities = aligner([text], [links])
    assert tokens.input_ids.shape == (1, 6)
    assert entities.entity_ids.tolist() == [[1]] and entities.entity_mask.tolist() == [[True]]
    start, end = entities.spans[0, 0].tolist()
    assert tokenizer.decode(tokens.input_ids[0, start:end].tolist()).replace(" ", "") == "paris"


def test_padding_candidates_and_dropped_links(tokenizers):
    tokenizer = tokenizers["wordpiece"]
    texts = ["Paris and Lyon and Seine", "the dog", "Paris"]
    links = [
        [Link(0, 5, "Paris", "geo:paris", 0.9, (Candidate("geo:paris", 0.9), Candidate("geo:paris_tx", 0.1),
                                                Candidate("unknown:x", 0.05))),
         {"start": 10, "end": 14, "surface": "Lyon", "entity": "geo:lyon", "score": 0.7,
          "candidates": [{"entity": "geo:lyon_fr", "score": 0.6}]},  # the linked entity is not listed
         {"start": 19, "end": 24, "surface": "Seine", "entity": "geo:seine", "score": 0.5}],
        [{"start": 4, "end": 7, "surface": "dog", "entity": "not-in-table", "score": 0.9}],
        [],
    ]
    rows = {"geo:paris": 1, "geo:paris_tx": 2, "geo:lyon": 3, "geo:lyon_fr": 4, "geo:seine": 5}
    _, entities = Aligner(tokenizer, rows.get, max_length=32, max_entities=2, max_candidates=2)(texts, links)
    assert entities.entity_ids.tolist() == [[1, 3], [0, 0], [0, 0]]  # max_entities keeps the first two
    assert entities.entity_mask.tolist() == [[True, True], [False, False], [False, False]]
    assert entities.weights[0].tolist() == pytest.approx([0.9, 0.7])
    assert entities.candidate_ids[0].tolist() == [[1, 2], [3, 4]]  # unknown dropped; gold put first
    assert entities.candidate_mask[0].tolist() == [[True, True], [True, True]]
    assert entities.candidate_scores[0, 1].tolist() == pytest.approx([0.7, 0.6])
    assert not entities.candidate_mask[1:].any() and entities.spans[1:].abs().sum() == 0


def test_no_links_gives_zero_slots_and_pairs_carry_none(tokenizers):
    tokenizer = tokenizers["wordpiece"]
    aligner = Aligner(tokenizer, {"geo:paris": 1})
    tokens, entities = aligner(["the dog", "a cat"], [[], []])
    assert entities.entity_ids.shape == (2, 0) and entities.candidate_ids.shape == (2, 0, 1)
    # pair: "Paris" in the second segment is not a link target; the first segment's is found
    tokens, entities = aligner(["Paris"], [[Link(0, 5, "Paris", "geo:paris", 1.0)]], pairs=["Paris"])
    start, end = entities.spans[0, 0].tolist()
    assert tokens.token_type_ids[0, start:end].tolist() == [0] * (end - start)


def test_bad_links_are_refused(tokenizers):
    aligner = Aligner(tokenizers["wordpiece"], {"geo:paris": 1})
    with pytest.raises(FusionError, match="outside"):
        aligner(["Paris"], [[Link(0, 9, "Paris", "geo:paris", 1.0)]])
    with pytest.raises(FusionError, match="one list per text"):
        aligner(["Paris", "Lyon"], [[]])
    with pytest.raises(FusionError, match="start, end"):
        aligner(["Paris"], [[{"start": 0, "surface": "Paris"}]])


def test_aligned_inputs_run_through_the_fused_encoder(tokenizers):
    from kgnlu.encoders import Encoder
    from kgnlu.fusion import KGEncoder
    from tests.encoders.conftest import tiny

    tokenizer = tokenizers["wordpiece"]
    torch.manual_seed(0)
    kg = KGEncoder(Encoder(tiny("bert", vocab_size=tokenizer.vocab_size)), torch.randn(6, 8), {1: "kar"})
    aligner = Aligner(tokenizer, {"geo:paris": 1, "geo:france": 2}, max_length=16)
    tokens, entities = aligner(["Paris is in France", "the dog"],
                               [[Link(0, 5, "Paris", "geo:paris", 0.9), Link(12, 18, "France", "geo:france", 0.8)], []])
    out = kg(tokens.input_ids, tokens.attention_mask, entities=entities)
    assert out.candidate_logits.shape == (2, 2, 1) and out.last_hidden_state.shape[:2] == tokens.input_ids.shape
