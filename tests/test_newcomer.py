"""Newcomer defects (issue 20, item 7), each as a new user meets it: command-line mistakes are a
message and exit 2 (no traceback); `kgnlu qa --help` lists the options `kgnlu qa GRAPH ...` takes;
flags show no `<bool>`; `eval qa` has `qa eval`'s default model and samples --limit across relation
paths; progress reaches a piped stderr; the first `kgnlu link` says it builds the index; `distill
--max-steps` bounds the task stage; evidence edges are labelled by triple, small drawings are small,
a fact stored both ways is one evidence path; `eval link` and `eval supersense` draw PNGs."""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from kgnlu.cli import main

REPO = Path(__file__).resolve().parents[1]
PNG = b"\x89PNG\r\n\x1a\n"


def kgnlu(*args: str, cwd, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "kgnlu.cli", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120, env={**os.environ, "KGNLU_PROGRESS": "0", **(env or {})})


@pytest.fixture(scope="module")
def tiny_graph(tmp_path_factory):
    """Paris and France joined both ways (country, capital), and Lyon."""
    folder = tmp_path_factory.mktemp("newcomer")
    (folder / "g.tsv").write_text("Paris\tcountry\tFrance\nFrance\tcapital\tParis\nLyon\tcountry\tFrance\n",
                                  encoding="utf-8")
    assert main(["graph", "build", str(folder / "g.tsv"), "--out", str(folder / "g"), "--no-store"]) == 0
    from kgnlu.kg import KnowledgeGraph

    return KnowledgeGraph.load(folder / "g")


# ------------------------------------------------------------------ usage errors
@pytest.mark.parametrize("args, needle", [
    ((), "Usage: kgnlu"),  # bare `kgnlu`: the help, as the message
    (("grph",), "No such command 'grph'"),
    (("qa", "ask", "g", "--bogus"), "No such option: --bogus"),
    (("graph", "build"), "Missing argument"),
    (("qa", "ask", "g", "--top", "0"), "--top"),
    (("eval", "qa", "--limit", "many"), "Invalid value for '--limit'"),
])
def test_a_command_line_mistake_is_a_message_and_exit_2_without_traceback(tmp_path, args, needle):
    done = kgnlu(*args, cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr and needle in done.stdout + done.stderr
    if args:
        assert "error:" in done.stderr and "--help" in done.stderr  # a one-line message and a hint
        assert len(done.stderr.strip().splitlines()) <= 3


def test_in_process_usage_errors_return_2(capsys):
    assert main(["grph"]) == 2
    assert main(["qa", "ask", "g", "--bogus"]) == 2
    err = capsys.readouterr().err
    assert "kgnlu qa ask: error: No such option: --bogus" in err and "Try 'kgnlu qa ask --help'" in err


def test_qa_help_lists_the_options_of_the_default_command_and_flags_show_no_type(tmp_path):
    done = kgnlu("qa", "--help", cwd=tmp_path, env={"COLUMNS": "120"})
    assert done.returncode == 0, done.stderr
    for option in ("--choice", "--input", "--json", "--model", "--top"):
        assert option in done.stdout
    assert "<bool>" not in done.stdout
    assert "<bool>" not in kgnlu("graph", "build", "--help", cwd=tmp_path).stdout


# ------------------------------------------------------------------ eval qa: default model, even sample
def _make_qa_data(folder: Path, per_path: int = 30) -> list[dict]:
    """A split written path by path, as make-qa writes it: the first lines are one relation path."""
    paths = [(1, ["r:a"]), (1, ["r:b"]), (2, ["r:a", "r:b"]), (2, ["r:b", "r:c"]), (3, ["r:a", "r:b", "r:c"])]
    rows = [{"id": f"q{i}-{j}", "question": f"question {i} {j}?", "hops": hops, "relations": rels,
             "template_id": f"t{j % 3}", "answers": [f"e{j}"]}
            for i, (hops, rels) in enumerate(paths) for j in range(per_path)]
    folder.mkdir(parents=True, exist_ok=True)
    for split in ("test", "paraphrase_dev"):
        (folder / f"{split}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return rows


def test_eval_qa_limit_samples_every_relation_path(tmp_path, capsys):
    rows = _make_qa_data(tmp_path / "data")
    pred = tmp_path / "pred.jsonl"
    pred.write_text("".join(json.dumps({"id": r["id"], "answers": r["answers"]}) + "\n" for r in rows),
                    encoding="utf-8")
    assert main(["eval", "qa", str(pred), str(tmp_path / "data"), "--limit", "20", "--out", str(tmp_path / "o"),
                 "--json"]) == 0
    capsys.readouterr()
    test = json.loads((tmp_path / "o" / "qa.json").read_text())["splits"]["test"]
    assert test["questions"] == 20
    assert set(test["by_hops"]) == {"1", "2", "3"}
    assert len(test["by_path"]) == 5  # the first 20 lines hold one path only


def test_sample_evenly_takes_make_qa_records_deterministically():
    from kgnlu.qa.dataset import sample_evenly

    records = [{"id": str(i), "hops": 1 + (i % 2), "relations": [f"r{i % 4}"] * (1 + i % 2), "template_id": ""}
               for i in range(400)]
    first, again = sample_evenly(records, 40), sample_evenly(records, 40)
    assert first == again and len(first) == 40
    assert {tuple(r["relations"]) for r in first} == {tuple(r["relations"]) for r in records}


def test_eval_qa_without_model_uses_the_default_model_as_qa_eval(tmp_path, monkeypatch, capsys):
    rows = _make_qa_data(tmp_path / "data", per_path=2)
    monkeypatch.setenv("KGNLU_HOME", str(tmp_path / "home"))
    out = tmp_path / "o"
    # no default model yet: a clear E001 naming where it looked, not "give --model"
    assert main(["eval", "qa", "--data", str(tmp_path / "data"), "--out", str(out)]) == 2
    assert str(tmp_path / "home" / "qa" / "models" / "default") in capsys.readouterr().err

    from kgnlu.qa.default import default_model_dir
    from kgnlu.qa.storage import CONFIG_FILE

    default_model_dir().mkdir(parents=True)
    (default_model_dir() / CONFIG_FILE).write_text("{}", encoding="utf-8")
    used = []

    class Oracle:  # answers every question with its gold answers
        def __init__(self, rows):
            self.gold = {r["question"]: r["answers"] for r in rows}

        def answer_batch(self, questions, k):
            return [[SimpleNamespace(entity=e) for e in self.gold[q]] for q in questions]

        def answer(self, question, k=5):
            return self.answer_batch([question], k)[0]

    def load_kgqa(model, graph=None):
        used.append(Path(model))
        return Oracle(rows)

    monkeypatch.setattr("kgnlu.eval.qa.load_kgqa", load_kgqa)
    assert main(["eval", "qa", "--data", str(tmp_path / "data"), "--out", str(out), "--json"]) == 0
    capsys.readouterr()
    assert used and set(used) == {default_model_dir()}
    report = json.loads((out / "qa.json").read_text())
    assert report["model"] == str(default_model_dir()) and report["splits"]["test"]["hits@1"] == 1.0
    assert report["latency_ms"]["questions"] > 0


# ------------------------------------------------------------------ progress off a terminal
SCRIPT = "from kgnlu.progress import track\nimport time\nfor _ in track(range(4), total=4, desc='demo', unit='step'):\n" \
         "    time.sleep(0.02)\n"


def _piped(env: dict) -> str:
    clean = {k: v for k, v in os.environ.items() if k not in ("KGNLU_PROGRESS", "KGNLU_PROGRESS_INTERVAL")}
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=60, cwd=REPO,
                          env={**clean, **env})
    assert done.returncode == 0, done.stderr
    return done.stderr


def test_progress_reaches_a_piped_stderr_at_a_low_rate():
    err = _piped({"KGNLU_PROGRESS_INTERVAL": "0"})
    lines = [line for line in err.splitlines() if line.startswith("kgnlu: demo:")]
    assert lines and "4/4 step (100%)" in lines[-1] and "step/s" in lines[-1] and "done" in lines[-1]
    assert "\r" not in err
    assert _piped({}) == ""  # under the 10 s interval: a short job stays quiet
    assert _piped({"KGNLU_PROGRESS": "0", "KGNLU_PROGRESS_INTERVAL": "0"}) == ""


def test_log_progress_prints_at_most_once_an_interval(capsys):
    from kgnlu.progress import LogProgress

    with LogProgress(total=1000, desc="x", unit="row", interval=3600) as bar:
        for _ in range(1000):
            bar.update(1)
    assert capsys.readouterr().err == ""


# ------------------------------------------------------------------ the first link says it builds the index
def test_first_link_on_a_graph_says_it_builds_the_index_once(tiny_graph, tmp_path):
    env = {"KGNLU_CACHE": str(tmp_path / "cache"), "KGNLU_PROGRESS": "1"}
    first = kgnlu("link", str(tiny_graph.path), "Paris is in France.", cwd=tmp_path, env=env)
    assert first.returncode == 0, first.stderr
    assert "building the linker index" in first.stderr and str(tmp_path / "cache") in first.stderr
    second = kgnlu("link", str(tiny_graph.path), "Paris is in France.", cwd=tmp_path, env=env)
    assert second.returncode == 0 and "building the linker index" not in second.stderr


# ------------------------------------------------------------------ distill --max-steps bounds every stage
def test_distill_max_steps_bounds_the_task_stage_too():
    from kgnlu.config import from_dict
    from kgnlu.distill.config import DistillConfig
    from kgnlu.distill.task import task_steps
    from kgnlu.eval.supersense import FinetuneConfig

    cfg = DistillConfig.load(REPO / "configs" / "distill-2layer.yaml", [], max_steps=3)
    assert cfg.trainer.max_steps == 3 and cfg.task is not None and cfg.task.max_steps == 3
    recipe = from_dict(FinetuneConfig, cfg.task.finetune, "task.finetune")
    assert task_steps(recipe, recipe.train_examples, cfg.task) == 3
    full = DistillConfig.load(REPO / "configs" / "distill-2layer.yaml", [])
    assert task_steps(recipe, recipe.train_examples, full.task) == 125  # the recipe's epoch, unbounded


# ------------------------------------------------------------------ evidence
def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == PNG
    return struct.unpack(">II", data[16:24])


def test_evidence_edges_are_labelled_by_triple_and_small_drawings_are_small(tiny_graph, tmp_path):
    from kgnlu.kg.plot import edge_labels, plot_subgraph
    from kgnlu.kg.traversal import Subgraph

    kg = tiny_graph
    paris, france = kg.lookup("Paris"), kg.lookup("France")
    rows = [t for t in np.asarray(kg.triples).tolist() if {t[0], t[2]} == {paris, france}]
    sub = Subgraph(np.array([france]), np.array(sorted({paris, france})), np.array(rows, dtype=np.int32), 1)
    labels = edge_labels(kg, sub)
    capital, country = kg.relation_index("capital"), kg.relation_index("country")
    assert labels == {(france, capital, paris): "capital", (paris, country, france): "country"}
    width, height = _png_size(plot_subgraph(kg, sub, tmp_path / "e.png", title="What is the capital of France?"))
    assert width < 1000 and height < 800  # not 1440×1080 for two nodes


def test_a_fact_stored_both_ways_is_one_evidence_path():
    from kgnlu.qa.answer import EvidencePath, EvidenceTriple, distinct_paths

    capital = EvidenceTriple("geo:fr", "gnrel:capital", "geo:paris", "France", "capital", "Paris", True)
    country = EvidenceTriple("geo:paris", "gnrel:country", "geo:fr", "Paris", "country", "France", False)
    lyon = EvidenceTriple("geo:lyon", "gnrel:country", "geo:fr", "Lyon", "country", "France", False)
    paths = [EvidencePath((capital,), 0.6), EvidencePath((country,), 0.3), EvidencePath((lyon,), 0.1)]
    assert [p.text for p in distinct_paths(paths)] == ["France --capital--> Paris", "France <--country-- Lyon"]
    # WordNet's derivation pointers run both ways between two senses of "dig": they read the same
    there = EvidenceTriple("wn:03996416-n", "wnrel:sense/derivation", "wn:01311121-v", "power shovel", "derivation",
                           "dig", True)
    back = EvidenceTriple("wn:01309719-v", "wnrel:sense/derivation", "wn:03996416-n", "dig", "derivation",
                          "power shovel", False)
    assert len(distinct_paths([EvidencePath((there,), 0.5), EvidencePath((back,), 0.5)])) == 1


# ------------------------------------------------------------------ eval link / supersense PNGs
LINK_REPORT = {
    "split": "test", "graph": "g", "heldout_percent": 10,
    "tasks": {"wordnet": {"examples": 10, "synsets": 5, "fast": {
        s: {"accuracy": 0.6, "mfs_accuracy": 0.5, "random_accuracy": 0.2, "candidate_recall": 0.9}
        for s in ("open", "pos_given")}},
        "geonames": {"sentences": 4, "names": 2, **{m: {
            "mention_detection": {"precision": 0.9, "recall": 0.8, "f1": 0.85},
            "linking": {"precision": 0.7, "recall": 0.6, "f1": 0.65}, "ambiguous_city_accuracy": 0.5}
            for m in ("fast", "prior")}}}}


def test_eval_link_writes_a_png(tiny_graph, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr("kgnlu.eval.linking.run_linking_eval", lambda kg, **kw: LINK_REPORT)
    out = tmp_path / "o"
    assert main(["eval", "link", str(tiny_graph.path), "--out", str(out), "--json"]) == 0
    capsys.readouterr()
    assert (out / "linking.json").is_file() and _png_size(out / "linking.png")


def test_supersense_and_natural_link_charts(tmp_path):
    from kgnlu.eval.report_plots import plot_natural_linking, plot_supersense

    mode = {"accuracy": 0.5, "macro_f1": 0.3, "majority_baseline": 0.1}
    assert _png_size(plot_supersense({"finetune": mode, "probe": mode}, tmp_path / "s.png"))
    natural = {"split": "dev", "sets": {"people": {"modes": {"fast": {"accuracy": 0.8}, "prior": {"accuracy": None}}}}}
    assert _png_size(plot_natural_linking(natural, tmp_path / "n.png"))
