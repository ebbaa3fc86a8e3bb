"""KGQA metrics against hand-computed values, prediction matching, and the eval qa / fewshot commands."""

from __future__ import annotations

import json

import pytest
import torch

from kgnlu.cli import main
from kgnlu.eval.qa import qa_metrics

GOLD = [
    {"id": "test-000000", "question": "What is the capital of France?", "hops": 1, "relations": ["gnrel:capital"],
     "answers": ["geo:paris"]},
    {"id": "test-000001", "question": "Which countries border the neighbours of Spain?", "hops": 2,
     "relations": ["gnrel:neighbour", "gnrel:neighbour"], "answers": ["geo:germany", "geo:italy"]},
    {"id": "test-000002", "question": "What is the capital of Italy?", "hops": 1, "relations": ["gnrel:capital"],
     "answers": ["geo:rome"]},
]


def test_metrics_match_hand_computation():
    predictions = {"test-000000": ["geo:paris", "geo:lyon"],
                   "test-000001": ["geo:spain", "geo:france", "geo:italy", "geo:germany"],  # first hit at rank 3
                   "test-000002": ["geo:milan"]}  # no hit
    m = qa_metrics(predictions, GOLD)
    assert m["questions"] == 3 and m["predicted"] == 3
    assert m["hits@1"] == pytest.approx(1 / 3)
    assert m["hits@5"] == pytest.approx(2 / 3)
    assert m["mrr"] == pytest.approx((1 + 1 / 3 + 0) / 3)
    assert m["by_hops"]["1"] == {"questions": 2, "hits@1": 0.5, "hits@5": 0.5, "mrr": 0.5}
    assert m["by_hops"]["2"]["hits@1"] == 0 and m["by_hops"]["2"]["mrr"] == pytest.approx(1 / 3)
    assert m["by_path"]["gnrel:neighbour/gnrel:neighbour"]["hits@5"] == 1.0
    assert m["by_path"]["gnrel:capital"]["questions"] == 2


def test_hits_at_5_stops_at_rank_5_and_missing_predictions_count_as_wrong():
    late = {"test-000000": ["a", "b", "c", "d", "e", "geo:paris"]}  # rank 6
    m = qa_metrics(late, GOLD)
    assert m["predicted"] == 1 and m["hits@5"] == 0.0 and m["mrr"] == pytest.approx((1 / 6) / 3)


def test_predictions_match_by_question_text_and_answer_objects():
    # `kgnlu qa --json` lines: no id, answers as objects
    lines = [{"question": q["question"], "answers": [{"entity": q["answers"][-1], "label": "x", "score": 0.9}]}
             for q in GOLD]
    m = qa_metrics(lines, GOLD)
    assert m["hits@1"] == 1.0 and m["mrr"] == 1.0


def test_eval_qa_command_writes_json_markdown_and_png(tmp_path, capsys):
    data = tmp_path / "data"
    data.mkdir()
    for split in ("test", "paraphrase_dev"):
        (data / f"{split}.jsonl").write_text("".join(json.dumps(q | {"id": q["id"].replace("test", split)}) + "\n"
                                                     for q in GOLD), encoding="utf-8")
    pred = tmp_path / "pred.jsonl"
    pred.write_text("".join(json.dumps({"id": q["id"], "answers": q["answers"]}) + "\n" for q in GOLD), encoding="utf-8")
    out = tmp_path / "report"
    assert main(["eval", "qa", str(pred), str(data), "--out", str(out), "--json"]) == 0
    report = json.loads((out / "qa.json").read_text())
    assert report["splits"]["test"]["hits@1"] == 1.0
    assert report["splits"]["paraphrase_dev"]["predicted"] == 0  # its ids are not in pred.jsonl
    assert report["splits"]["paraphrase_dev"]["hits@5"] == 0.0
    assert "| test | 2 | 1 |" in (out / "qa.md").read_text()
    assert (out / "qa_hits_by_hops.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    capsys.readouterr()


def test_eval_fewshot_command_on_a_tiny_kgnlu_gpt2(tmp_path, capsys):
    from kgnlu.data.tokenizer import train_byte_level_bpe
    from kgnlu.encoders import Encoder, EncoderConfig

    run = tmp_path / "run"
    tokenizer = train_byte_level_bpe(["What is the capital of France? Paris"] * 5, vocab_size=300, min_frequency=1)
    tokenizer.save(run / "tokenizer")
    torch.manual_seed(0)
    Encoder(EncoderConfig.gpt2(vocab_size=tokenizer.vocab_size, hidden_size=16, num_layers=1, num_heads=2,
                               ffn_size=32, max_positions=48)).save_pretrained(run / "encoder")
    out = tmp_path / "fs"
    args = ["eval", "fewshot", str(run), "--shots", "0", "--shots", "1", "--normalize", "length",
            "--normalize", "none", "--limit", "6", "--out", str(out), "--json"]
    assert main(args) == 0
    report = json.loads((out / "fewshot.json").read_text())
    assert report["examples"] == 6 and report["chance"] == pytest.approx(0.25)
    assert sorted((r["shots"], r["normalize"]) for r in report["results"]) == [
        (0, "length"), (0, "none"), (1, "length"), (1, "none")]
    assert all(0.0 <= r["accuracy"] <= 1.0 and r["correct"] == round(r["accuracy"] * 6) for r in report["results"])
    assert (out / "fewshot_shots.png").read_bytes()[:4] == b"\x89PNG"
    capsys.readouterr()
