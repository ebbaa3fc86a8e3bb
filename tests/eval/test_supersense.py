"""Supersense classification (kgnlu.eval.supersense) on a fake WordNet folder written here."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
import torch

from kgnlu.data.tokenizer import train_wordpiece
from kgnlu.encoders import Encoder, EncoderConfig
from kgnlu.errors import ConfigError, DataMissingError
from kgnlu.eval.supersense import (
    LABELS,
    FinetuneConfig,
    SupersenseExample,
    SupersenseProbeConfig,
    SupersenseSplits,
    finetune_supersense,
    macro_f1,
    probe_supersense,
    supersense_splits,
)

#: lexicographer file → (data file, ss_type, words that only its glosses use): an easy, learnable signal
CLASSES = {5: ("noun", "n", ["animal", "furry", "beast"]), 6: ("noun", "n", ["tool", "metal", "device"]),
           38: ("verb", "v", ["move", "walk", "travel"]), 0: ("adj", "a", ["bright", "pleasant", "good"])}
FILLER = "a an the of which with used for in by that to or thing kind place".split()


def write_fake_wordnet(folder: Path, per_class: int = 40, seed: int = 0) -> Path:
    """data.{noun,verb,adj,adv} with ``per_class`` synsets per class in CLASSES; each gloss holds one of
    the class's cue words among filler words (and a quoted example for some)."""
    rng = random.Random(seed)
    files: dict[str, list[str]] = {"noun": [], "verb": [], "adj": [], "adv": []}
    offset = 1000
    for lexfile, (pos_file, ss_type, cues) in CLASSES.items():
        for i in range(per_class):
            words = rng.sample(FILLER, 5) + [rng.choice(cues)]
            rng.shuffle(words)
            gloss = " ".join(words)
            if i % 3 == 0:
                gloss += f'; "the {cues[0]} example number {i}"'
            frames = " 01 + 02 00" if ss_type == "v" else ""
            files[pos_file].append(f"{offset:08d} {lexfile:02d} {ss_type} 01 w{lexfile}x{i} 0 000{frames} | {gloss}")
            offset += 100
    files["adv"].append(f"{offset:08d} 02 r 01 quickly 0 000 | with speed")
    folder.mkdir(parents=True, exist_ok=True)
    for name, lines in files.items():
        (folder / f"data.{name}").write_text("".join(line + "  \n" for line in lines))
    return folder


def tiny_encoder(vocab_size: int, pad_id: int) -> Encoder:
    torch.manual_seed(0)
    return Encoder(EncoderConfig.bert(vocab_size=vocab_size, hidden_size=32, num_layers=1, num_heads=2, ffn_size=64,
                                      max_positions=32, pad_token_id=pad_id))


@pytest.fixture
def wordnet(tmp_path: Path) -> Path:
    return write_fake_wordnet(tmp_path / "dict")


def test_split_is_by_synset_deterministic_and_complete(wordnet: Path) -> None:
    splits = supersense_splits(wordnet, seed=3)
    parts = [{e.synset for e in part} for part in (splits.train, splits.dev, splits.test)]
    assert not parts[0] & parts[1] and not parts[0] & parts[2] and not parts[1] & parts[2]
    assert sum(map(len, parts)) == 4 * 40 + 1  # every synset with a definition, once
    assert len(splits.test) == round(0.1 * 161) and len(splits.dev) == round(0.05 * 161)
    again = supersense_splits(wordnet, seed=3)
    assert [e.synset for e in again.test] == [e.synset for e in splits.test]
    other = supersense_splits(wordnet, seed=4)
    assert [e.synset for e in other.test] != [e.synset for e in splits.test]
    dog = next(e for e in splits.train + splits.dev + splits.test if e.synset == "wn:00001000-n")
    assert dog.lexname == "noun.animal" and LABELS[dog.label] == "noun.animal"
    assert '"' not in dog.text  # the definition only, examples cut off
    assert len(LABELS) == 45


def test_limit_and_bad_arguments(wordnet: Path, tmp_path: Path) -> None:
    assert sum(len(p) for p in vars(supersense_splits(wordnet, limit=50)).values()) == 50
    with pytest.raises(ConfigError):
        supersense_splits(wordnet, test_fraction=0.0)
    with pytest.raises(ConfigError):
        supersense_splits(wordnet, test_fraction=0.6, dev_fraction=0.5)
    with pytest.raises(ConfigError):
        supersense_splits(wordnet, limit=2)
    with pytest.raises(DataMissingError):
        supersense_splits(tmp_path / "nowhere")


@pytest.mark.parametrize("field,value", [("train_examples", 0), ("test_examples", -1), ("epochs", 0),
                                         ("batch_size", 0), ("lr", 0.0), ("lr", -1e-3), ("weight_decay", -0.1),
                                         ("warmup_ratio", 1.0), ("head_dropout", 1.0), ("max_length", 2)])
def test_config_rejects_bad_values(field: str, value) -> None:
    with pytest.raises(ConfigError):
        FinetuneConfig(**{field: value})


def test_macro_f1_by_hand() -> None:
    # label 0: tp 1, fp 1, fn 1 → F1 0.5; label 1: tp 1, fp 0, fn 1 → 2/3; label 2 (predicted only) not counted
    assert macro_f1([0, 0, 1, 1], [0, 1, 1, 2]) == pytest.approx((0.5 + 2 / 3) / 2)
    assert macro_f1([3, 3], [3, 3]) == 1.0


def test_finetuned_tiny_model_beats_chance_and_leaves_the_encoder_alone(wordnet: Path) -> None:
    splits = supersense_splits(wordnet, seed=0, test_fraction=0.25)
    tokenizer = train_wordpiece([e.text for e in splits.train], vocab_size=120, min_frequency=1)
    encoder = tiny_encoder(tokenizer.vocab_size, tokenizer.pad_id)
    before = {k: v.clone() for k, v in encoder.state_dict().items()}
    # a 1-layer model from scratch needs a high rate to find one cue word among six under mean pooling
    config = FinetuneConfig(train_examples=None, test_examples=None, epochs=5, batch_size=8, lr=1e-2, max_length=24)
    report = finetune_supersense(encoder, tokenizer, splits, config)
    assert report["test_examples"] == len(splits.test) and report["train_examples"] == len(splits.train)
    # four balanced classes (plus one adverb): chance is ~0.25, the cue words make ~1.0 reachable
    assert report["accuracy"] > 0.6, report
    assert report["accuracy"] > report["majority_baseline"] + 0.25
    assert 0.0 <= report["macro_f1"] <= 1.0 and report["seconds"] > 0
    assert all(torch.equal(before[k], v) for k, v in encoder.state_dict().items())


def test_untrained_recipe_stays_near_chance(wordnet: Path) -> None:
    """The same model with a learning rate too small to move it: the score above is learnt, not free."""
    splits = supersense_splits(wordnet, seed=0, test_fraction=0.25)
    tokenizer = train_wordpiece([e.text for e in splits.train], vocab_size=120, min_frequency=1)
    config = FinetuneConfig(train_examples=None, test_examples=None, epochs=1, batch_size=8, lr=1e-9, max_length=24)
    report = finetune_supersense(tiny_encoder(tokenizer.vocab_size, tokenizer.pad_id), tokenizer, splits, config)
    assert report["accuracy"] < 0.5


def test_frozen_probe_reads_the_cue_words_and_rejects_bad_config(wordnet: Path) -> None:
    splits = supersense_splits(wordnet, seed=0, test_fraction=0.25)
    tokenizer = train_wordpiece([e.text for e in splits.train], vocab_size=120, min_frequency=1)
    encoder = tiny_encoder(tokenizer.vocab_size, tokenizer.pad_id)  # random weights: token identity survives
    before = {k: v.clone() for k, v in encoder.state_dict().items()}
    report = probe_supersense(encoder, tokenizer, splits, SupersenseProbeConfig(train_examples=None, test_examples=None))
    assert report["accuracy"] > 0.6 and report["accuracy"] > report["majority_baseline"] + 0.25, report
    assert all(torch.equal(before[k], v) for k, v in encoder.state_dict().items())
    # features of pure noise carry nothing: the probe falls to about chance
    noise = [SupersenseExample(e.synset, "the of a", e.label) for e in splits.train]
    flat = probe_supersense(encoder, tokenizer, SupersenseSplits(noise, [], noise[:40]), SupersenseProbeConfig())
    assert flat["accuracy"] < 0.45
    for bad in ({"l2": -1.0}, {"max_iterations": 0}, {"train_examples": 0}):
        with pytest.raises(ConfigError):
            SupersenseProbeConfig(**bad)


def test_cli_scores_a_saved_run(wordnet: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from kgnlu.cli import main

    splits = supersense_splits(wordnet, seed=0)
    tokenizer = train_wordpiece([e.text for e in splits.train], vocab_size=120, min_frequency=1)
    run = tmp_path / "run"
    tiny_encoder(tokenizer.vocab_size, tokenizer.pad_id).save_pretrained(run / "encoder")
    tokenizer.save(run / "tokenizer")
    code = main(["eval", "supersense", str(run), "--mode", "probe", "--wordnet-dir", str(wordnet),
                 "--train-examples", "0", "--test-examples", "0", "--json", "--out", str(tmp_path / "out")])
    assert code == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert "finetune" not in result and result["probe"]["test_examples"] == len(splits.test)
    assert result["probe"]["accuracy"] > 0.5
    assert json.loads((tmp_path / "out" / "supersense.json").read_text())["probe"] == result["probe"]
    assert main(["eval", "supersense", str(run), "--mode", "nope", "--wordnet-dir", str(wordnet)]) == 2
