"""The word-sense bi-encoder (kgnlu.kg.linker.sense_model) and its training data and loop, on tiny
encoders and a tiny WordNet dict folder with glosses and examples (written here)."""

from __future__ import annotations

import numpy as np
import pytest

from kgnlu.errors import CheckpointError, KgnluError
from kgnlu.kg.linker.sense_model import SenseConfig, SenseModel, _window
from kgnlu.kg.linker.sense_training import (
    SenseData,
    SenseTrainingConfig,
    sense_training_data,
    train_sense_model,
)

# (offset, pos, lemmas, definition, examples)
SYNSETS = [
    (100, "n", ["bank"], "sloping land beside a body of water",
     ["they pulled the canoe up on the bank", "he sat on the bank of the river and watched the currents"]),
    (200, "n", ["depository_financial_institution", "bank"], "a financial institution that accepts deposits",
     ["she deposited her salary in the bank", "the bank raised its interest rates"]),
    (300, "n", ["bass"], "the lowest part in polyphonic music", ["he sang bass in the choir"]),
    (400, "n", ["bass", "sea_bass"], "an edible freshwater or marine fish", ["we caught a bass in the lake"]),
    (500, "n", ["bank"], "a supply or stock held in reserve", ["the hospital has a blood bank"]),
    (600, "v", ["bank"], "do business with a bank", ["where do you bank in this town"]),
    (700, "n", ["pebble"], "a small smooth stone", ["a pebble on the beach"]),
]
HELD_OUT = "wn:00000500-n"
FILES = {"n": "noun", "v": "verb", "a": "adj", "r": "adv"}


def write_wordnet(folder):
    lines: dict[str, list[str]] = {name: [] for name in FILES.values()}
    for offset, pos, lemmas, definition, examples in SYNSETS:
        words = " ".join(f"{w} 0" for w in lemmas)
        gloss = "; ".join([definition, *(f'"{x}"' for x in examples)])
        lexfile = "29" if pos == "v" else "03"  # verb.body, noun.Tops
        lines[FILES[pos]].append(f"{offset:08d} {lexfile} {pos} {len(lemmas):02x} {words} 000 | {gloss}  ")
    folder.mkdir(parents=True, exist_ok=True)
    for name, rows in lines.items():
        (folder / f"data.{name}").write_text("".join(r + "\n" for r in rows), encoding="ascii")
    (folder / "noun.exc").write_text("", encoding="ascii")
    (folder / "verb.exc").write_text("", encoding="ascii")
    return folder


def held_out(synset: str) -> str:
    return "test" if synset == HELD_OUT else "dev"


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return sense_training_data(write_wordnet(tmp_path_factory.mktemp("wn")), split_of=held_out)


def tiny_model(seed: int = 0, **config) -> SenseModel:
    import torch

    from kgnlu.data.tokenizer import load_minilm_tokenizer
    from kgnlu.encoders import Encoder, EncoderConfig

    tokenizer = load_minilm_tokenizer()
    torch.manual_seed(seed)

    def encoder():
        return Encoder(EncoderConfig.bert(vocab_size=tokenizer.vocab_size, hidden_size=32, num_layers=2,
                                          num_heads=2, ffn_size=64, max_positions=128))

    return SenseModel(encoder(), encoder(), tokenizer, SenseConfig(trainable_layers=2, gloss_trainable_layers=2,
                                                                     **config))


def test_data_builder_finds_spans_and_candidates(data):
    texts = {x.text: x for x in data.examples}
    ex = texts["he sat on the bank of the river and watched the currents"]
    assert ex.text[ex.start:ex.end] == "bank" and ex.gold == "wn:00000100-n"
    # every sense of the lemma, any part of speech, the gold among them
    assert set(ex.candidates) == {"wn:00000100-n", "wn:00000200-n", "wn:00000600-v"}
    assert data.glosses["wn:00000200-n"] == "a financial institution that accepts deposits"  # no label, no examples
    assert "a pebble on the beach" not in texts  # a lemma with one sense teaches nothing
    assert data.skipped_monosemous == 1


def test_held_out_synsets_are_never_trained_on(data):
    assert data.heldout_synsets == 1
    assert all(x.gold != HELD_OUT and HELD_OUT not in x.candidates for x in data.examples)
    assert HELD_OUT not in data.glosses
    assert "the hospital has a blood bank" not in {x.text for x in data.examples}


def test_default_split_is_the_evaluations(tmp_path):
    from kgnlu.eval.linking import split_of

    got = sense_training_data(write_wordnet(tmp_path / "wn"))
    assert all(split_of(x.gold) == "dev" and all(split_of(c) == "dev" for c in x.candidates) for x in got.examples)
    assert all(split_of(s) == "dev" for s in got.glosses)


def test_save_load_round_trip_gives_identical_scores(tmp_path, data):
    model = tiny_model()
    items = [(x.text, x.start, x.end, list(x.candidates)) for x in data.examples]
    before = model.scorer(data.glosses.__getitem__).score(items)
    model.save_pretrained(tmp_path / "senses")
    loaded = SenseModel.from_pretrained(tmp_path / "senses")
    after = loaded.scorer(data.glosses.__getitem__).score(items)
    assert loaded.config == model.config
    for a, b in zip(before, after, strict=True):
        np.testing.assert_array_equal(a, b)


def test_tampered_or_missing_files_are_coded_errors(tmp_path):
    folder = tiny_model().save_pretrained(tmp_path / "senses")
    weights = folder / "gloss" / "model.safetensors"
    weights.write_bytes(b"\x00" * 64)
    with pytest.raises(KgnluError) as err:
        SenseModel.from_pretrained(folder)
    assert err.value.code.startswith("E")
    (folder / "sense_model.json").write_text('{"format": "something else"}', encoding="utf-8")
    with pytest.raises(CheckpointError):
        SenseModel.from_pretrained(folder)
    with pytest.raises(CheckpointError):
        SenseModel.from_pretrained(tmp_path / "nowhere")


def test_training_reduces_loss_and_ranks_the_gold_sense_first(data):
    model = tiny_model(seed=1)
    repeated = SenseData(data.examples * 40, data.glosses, data.heldout_synsets)
    cfg = SenseTrainingConfig(examples=0, batch_size=4, learning_rate=3e-3, warmup=0.05, seed=0,
                              model=SenseConfig(trainable_layers=2, gloss_trainable_layers=2))
    trained, summary = train_sense_model(repeated, None, cfg, model=model)
    assert summary["last_loss"] < summary["first_loss"] * 0.5
    scorer = trained.scorer(data.glosses.__getitem__)
    for x in data.examples:
        scores = scorer.score([(x.text, x.start, x.end, list(x.candidates))])[0]
        assert x.candidates[int(np.argmax(scores))] == x.gold, x.text


def test_context_window_keeps_offsets():
    text = "x" * 500 + " bank " + "y" * 500
    cut, s, e = _window(text, 501, 505, 50)
    assert cut[s:e] == "bank" and len(cut) == 104
    with pytest.raises(KgnluError):
        _window("short", 3, 10, 50)


def test_sense_feature_moves_the_ranking():
    from kgnlu.kg.linker.candidates import CandidateInfo
    from kgnlu.kg.linker.disambiguation import Coherence, Disambiguator, MentionItem, Weights
    from kgnlu.kg.linker.mentions import Mention

    class NoWalk:  # a graph without edges
        out_indptr = in_indptr = np.zeros(3, np.int64)
        triples, in_index = np.zeros((0, 3), np.int64), np.zeros(0, np.int64)

    canon = np.arange(2)
    m = Mention(0, 4, 0, 1, [], False, False)
    cands = [CandidateInfo(0, 0.9, "alias", 1.0), CandidateInfo(1, 0.1, "alias", 1.0)]
    d = Disambiguator(Weights(coherence=0.0, case=0.0, label=0.0, pos=0.0),
                      Coherence(NoWalk(), canon), np.zeros(2, bool))
    assert d.rank([MentionItem(m, "bank", cands)])[0][0][0].entity == 0  # the prior alone
    assert d.rank([MentionItem(m, "bank", cands, sense=[0.1, 0.6])])[0][0][0].entity == 1


def test_linker_joins_the_sense_feature_for_synset_mentions_only(tmp_path):
    from kgnlu.kg.linker import EntityLinker, Weights
    from tests.kg.linker_graph import build_fixture_graph

    kg = build_fixture_graph(tmp_path / "fixture")
    text = "They sat on the bank of Paris."
    plain = EntityLinker.from_graph(kg, "fast", save="none")
    with_model = EntityLinker.from_graph(kg, "fast", save="none", sense_model=tiny_model(),
                                         weights=Weights(sense=100.0))
    seen = []

    def fixed(items):  # the verb sense wins whatever the context says
        seen.extend(items)
        return [np.array([1.0 if kg.entity_id(c).endswith("-v") else 0.0 for c in it[3]], np.float32)
                for it in items]

    with_model.senses.scorer.score = fixed
    got = {lk.surface: lk.entity for lk in with_model.link(text)}
    assert got["bank"] == "wn:00000004-v"
    assert [it[0][it[1]:it[2]] for it in seen] == ["bank"]  # "Paris" has no synset candidate here
    assert {lk.surface: lk.entity for lk in plain.link(text)}["bank"] != "wn:00000004-v"
    # the gloss the model reads is the definition, examples and label left out
    e = kg.index_of("wn:00000004-v")
    assert with_model.senses.scorer.gloss_of(e) == "do business with a bank or keep an account at a bank"
