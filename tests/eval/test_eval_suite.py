"""`kgnlu eval kge` and `kgnlu eval all`: real evaluations where models exist, stated skips where not."""

from __future__ import annotations

import json

import pytest

from kgnlu.cli import main


@pytest.fixture(scope="module")
def kinships_with_embeddings(tmp_path_factory):
    pytest.importorskip("pykeen")  # the Kinships data ships inside the pykeen package
    from kgnlu.kg.build import build_graph

    path = build_graph(["pykeen:kinships"], tmp_path_factory.mktemp("suite") / "kinships", store=False)
    assert main(["kge", "train", str(path), "--model", "distmult", "--dim", "8", "--epochs", "2", "--name", "tiny",
                 "threads=1", "--json"]) == 0
    return path


def test_eval_kge_matches_kge_eval(kinships_with_embeddings, tmp_path, capsys):
    g = str(kinships_with_embeddings)
    assert main(["kge", "eval", g, "--name", "tiny", "--json"]) == 0
    single = json.loads(capsys.readouterr().out.strip())
    assert main(["eval", "kge", g, "--out", str(tmp_path), "--json"]) == 0
    report = json.loads(capsys.readouterr().out.strip())
    (row,) = report["embeddings"]
    # the suite's number is the same evaluation the single command runs, over the 1,074 test triples × 2 sides
    assert row["name"] == "tiny" and row["mrr"] == pytest.approx(single["mrr"]) and row["ranks"] == 2 * 1074
    # one KGE evaluator: `kge eval --json` is the same row of `eval kge`'s report, in its own shape
    from kgnlu.commands.kge import kge_eval_json

    untimed = [{k: v for k, v in r.items() if k != "seconds"} for r in (single, kge_eval_json(row, "test"))]
    assert untimed[0] == untimed[1]
    assert (tmp_path / "kge.md").read_text().count("| tiny |") == 1
    assert (tmp_path / "kge.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_eval_kge_refuses_a_graph_without_test_triples(tmp_path, family_tsv, capsys):
    from kgnlu.kg.build import build_graph

    g = build_graph([str(family_tsv)], tmp_path / "family", store=False)
    assert main(["kge", "train", str(g), "--model", "transe", "--dim", "4", "--epochs", "1", "threads=1"]) == 0
    capsys.readouterr()
    assert main(["eval", "kge", str(g), "--out", str(tmp_path / "out")]) == 2
    assert "no test triples" in capsys.readouterr().err
    assert not (tmp_path / "out" / "kge.json").exists()  # nothing half-written


def test_eval_all_runs_what_exists_and_says_why_the_rest_is_skipped(kinships_with_embeddings, tmp_path, capsys):
    out = tmp_path / "all"
    assert main(["eval", "all", str(kinships_with_embeddings), "--out", str(out), "--task", "kge", "--task", "qa",
                 "--task", "probe", "--task", "fewshot", "--qa-model", str(tmp_path / "no-model"), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    status = {t["task"]: t for t in summary["tasks"]}
    assert status["kge"]["status"] == "ok" and 0 < status["kge"]["headline"]["tiny MRR"] <= 1
    for task, hint in (("qa", "kgnlu qa train"), ("probe", "--probe-run"), ("fewshot", "--causal-lm")):
        assert status[task]["status"] == "skipped" and hint in status[task]["reason"]
    table = (out / "summary.md").read_text()
    assert "| kge | tiny MRR |" in table and "| qa | skipped |" in table
    assert (out / "summary.png").is_file() and (out / "kge" / "kge.json").is_file()


def test_eval_all_rejects_unknown_tasks(tmp_path, capsys):
    assert main(["eval", "all", str(tmp_path), "--task", "nosuch"]) == 2
    assert "unknown task" in capsys.readouterr().err
