"""``kgnlu qa``: answering (one question, --input JSONL, the default model under $KGNLU_HOME)
and ``kgnlu qa train``."""

from __future__ import annotations

import json
import shutil

import pytest

from kgnlu.cli import main
from tests.qa.qa_graph import ext


def _lines(capsys):
    return [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.strip()]


def test_one_question_as_json_line(trained, qa_graph, capsys):
    _, _, model = trained
    assert main(["qa", str(qa_graph.path), "Which country is Osaka in?", "--model", str(model), "--json"]) == 0
    (obj,) = _lines(capsys)
    assert obj["question"] == "Which country is Osaka in?"
    top = obj["answers"][0]
    assert {"entity", "label", "score", "evidence"} <= set(top)
    assert top["entity"] == ext("Japan") and top["label"] == "Japan"
    assert top["evidence"][0]["triples"][0] == {
        "head": ext("Osaka"), "relation": "gnrel:country", "tail": ext("Japan"), "head_label": "Osaka",
        "relation_label": "country", "tail_label": "Japan", "forward": True}


def test_input_jsonl_one_object_a_line(trained, qa_graph, tmp_path, capsys):
    _, _, model = trained
    rows = [{"question": "What is the capital of Egypt?"}, {"question": "hmm, nothing here"},
            {"question": "We dug the ground to plant flowers. Which tool did we need?",
             "choices": ["shovel", "excavator"]}]
    path = tmp_path / "q.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    assert main(["qa", str(qa_graph.path), "--input", str(path), "--model", str(model), "--json"]) == 0
    out = _lines(capsys)
    assert len(out) == 3
    by_q = {o["question"]: o for o in out}
    assert by_q[rows[0]["question"]]["answers"][0]["entity"] == ext("Cairo")
    assert by_q[rows[1]["question"]]["answers"] == [] and by_q[rows[1]["question"]]["reason"]
    assert by_q[rows[2]["question"]]["answer"] == "shovel"


def test_bad_input_line_is_a_clear_error(trained, qa_graph, tmp_path, capsys):
    _, _, model = trained
    path = tmp_path / "q.jsonl"
    path.write_text('{"text": "no question key"}\n', encoding="utf-8")
    assert main(["qa", str(qa_graph.path), "--input", str(path), "--model", str(model)]) == 2
    assert "q.jsonl:1" in capsys.readouterr().err


@pytest.fixture
def zero_shot_calls(trained, monkeypatch):
    """KGQA.from_graph replaced by a recorder returning the trained fixture model: which model
    `kgnlu qa` picks is under test here, not zero-shot answering (tests/qa/test_zero_shot.py)."""
    from kgnlu.qa import KGQA

    calls = []

    def from_graph(cls, graph, *args, **kwargs):
        calls.append(graph)
        return trained[0]

    monkeypatch.setattr(KGQA, "from_graph", classmethod(from_graph))
    return calls


def test_default_model_comes_from_kgnlu_home(trained, qa_graph, tmp_path, monkeypatch, capsys, zero_shot_calls):
    _, _, model = trained
    monkeypatch.setenv("KGNLU_HOME", str(tmp_path))
    question = [str(qa_graph.path), "What is the capital of Kenya?"]
    assert main(["qa", *question]) == 0  # no default model yet: zero-shot, and says how to train one
    err = capsys.readouterr().err
    assert len(zero_shot_calls) == 1 and "zero-shot" in err and "kgnlu qa train" in err
    shutil.copytree(model, tmp_path / "qa" / "models" / "default")
    assert main(["qa", *question]) == 0
    text = capsys.readouterr().out
    assert len(zero_shot_calls) == 1  # the default model was trained on this graph: used
    assert "Nairobi" in text and "--capital-->" in text
    assert main(["qa", *question, "--zero-shot"]) == 0 and len(zero_shot_calls) == 2  # asked for


def test_a_default_model_of_another_graph_is_not_used(trained, qa_graph, tmp_path, monkeypatch, capsys,
                                                       zero_shot_calls):
    _, _, model = trained
    monkeypatch.setenv("KGNLU_HOME", str(tmp_path))
    default = tmp_path / "qa" / "models" / "default"
    shutil.copytree(model, default)
    meta = json.loads((default / "qa.json").read_text())
    meta["graph"]["checksum"] = "sha256:" + "0" * 64
    (default / "qa.json").write_text(json.dumps(meta))
    assert main(["qa", str(qa_graph.path), "What is the capital of Kenya?"]) == 0
    assert len(zero_shot_calls) == 1 and "zero-shot" in capsys.readouterr().err
    (default / "qa.json").write_text("{not json")  # an unreadable default model does not stop answering
    assert main(["qa", str(qa_graph.path), "What is the capital of Kenya?"]) == 0
    assert len(zero_shot_calls) == 2


def test_model_and_zero_shot_together_are_refused(trained, qa_graph, capsys):
    _, _, model = trained
    assert main(["qa", str(qa_graph.path), "Which country is Osaka in?", "--model", str(model), "--zero-shot"]) == 2
    assert "--zero-shot" in capsys.readouterr().err


def test_train_command_writes_a_model_that_answers(qa_graph, qa_data, tiny_text_model, tmp_path, capsys):
    encoder, tokenizer = tiny_text_model
    encoder.save_pretrained(tmp_path / "enc")
    tokenizer.save(tmp_path / "tok")
    out = tmp_path / "model"
    args = ["qa", "train", str(qa_graph.path), "--data", str(qa_data), "--out", str(out), "--encoder",
            str(tmp_path / "enc"), "--tokenizer", str(tmp_path / "tok"), "--json", "qa.ensemble=1", "qa.epochs=25",
            "qa.batch_size=32", "qa.threads=1", "qa.topic_examples=100", "qa.gnn_examples=100",
            "qa.path_text_scale=60", "qa.augment_repeat=8", "qa.reranker=false", "qa.lexical_variants=0"]
    assert main(args) == 0
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert report["train_questions"] > 100 and report["dev"]["questions"] > 0
    # switched on: path descriptions augment training, the zero-shot expert is weighed on dev
    assert report["augmented_questions"] >= 8 * 7  # 8 copies of >= 1 description for each of 7 paths
    assert set(report["dev_path_text"]) == {"hits@1_with", "hits@1_without", "used"}
    saved = json.loads((out / "qa.json").read_text())["config"]
    assert saved["path_text_scale"] == (60.0 if report["dev_path_text"]["used"] else 0.0)
    assert main(["qa", str(qa_graph.path), "Which continent is Fiji on?", "--model", str(out), "--json"]) == 0
    (obj,) = _lines(capsys)
    assert obj["answers"][0]["entity"] == ext("Oceania")


def test_train_command_holds_out_a_template_per_path_when_asked(qa_graph, qa_data, tiny_text_model, tmp_path,
                                                                 capsys):
    encoder, tokenizer = tiny_text_model
    encoder.save_pretrained(tmp_path / "enc")
    tokenizer.save(tmp_path / "tok")
    common = ["--data", str(qa_data), "--encoder", str(tmp_path / "enc"), "--tokenizer", str(tmp_path / "tok"),
              "--json", "qa.ensemble=1", "qa.epochs=2", "qa.batch_size=32", "qa.threads=1", "qa.topic_examples=50",
              "qa.gnn_examples=20", "qa.lexical_variants=0", "qa.reranker=false"]
    assert main(["qa", "train", str(qa_graph.path), "--out", str(tmp_path / "all"), *common]) == 0
    full = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert main(["qa", "train", str(qa_graph.path), "--out", str(tmp_path / "held"), "--holdout-templates",
                 *common]) == 0
    held = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    check = held["holdout_templates"]
    assert "holdout_templates" not in full
    assert full["train_questions"] == held["train_questions"] + check["questions"] and check["questions"] > 0
    assert 0 < check["hits@1_questions"] <= check["questions"]
    assert all(0.0 <= check[k] <= 1.0 for k in ("all", "hits@1_with_gnn", "hits@1_without_gnn"))


def test_eval_command_reports_hits_per_hop_and_latency(trained, qa_graph, qa_data, capsys):
    _, _, model = trained
    args = ["qa", "eval", str(qa_graph.path), "--data", str(qa_data), "--model", str(model), "--split", "test",
            "--latency-samples", "10", "--json"]
    assert main(args) == 0
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    test = report["splits"]["test"]
    assert test["questions"] == len((qa_data / "test.jsonl").read_text().splitlines())
    assert set(test["by_hops"]) == {"1", "2", "3"} and test["hits@1"] >= 0.9
    assert report["latency_ms"]["questions"] == 10
    assert 0 < report["latency_ms"]["p50"] <= report["latency_ms"]["p95"]


def test_qa_eval_is_an_alias_of_eval_qa(trained, qa_graph, qa_data, tmp_path, capsys):
    """One QA evaluator: `kgnlu qa eval` prints the report `kgnlu eval qa --model` writes."""
    _, _, model = trained
    common = ["--data", str(qa_data), "--model", str(model), "--split", "test", "--latency-samples", "0", "--json"]
    assert main(["qa", "eval", str(qa_graph.path), *common]) == 0
    alias = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    out = tmp_path / "eval-qa"
    assert main(["eval", "qa", "--graph", str(qa_graph.path), "--out", str(out), *common]) == 0
    capsys.readouterr()
    canonical = json.loads((out / "qa.json").read_text())
    for report in (alias, canonical):
        report["splits"]["test"].pop("seconds")
    assert alias == canonical and canonical["splits"]["test"]["questions"] > 0


def test_eval_command_scores_test_and_paraphrase_dev_by_default(trained, qa_graph, qa_data, capsys):
    _, _, model = trained
    args = ["qa", "eval", str(qa_graph.path), "--data", str(qa_data), "--model", str(model), "--latency-samples", "0",
            "--limit", "20", "--json"]
    assert main(args) == 0
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert set(report["splits"]) == {"test", "paraphrase_dev"}
    assert report["splits"]["paraphrase_dev"]["questions"] == 20
