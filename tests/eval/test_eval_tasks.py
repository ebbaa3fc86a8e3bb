"""The evaluation registry: every `kgnlu eval` task is registered, `eval all` runs them in-process,
and the one latency percentile rule."""

from __future__ import annotations

import json

import pytest

from kgnlu.cli import main
from kgnlu.eval.suite import SuiteConfig, default_tasks, run_suite
from kgnlu.eval.task_runs import eval_tasks
from kgnlu.eval.tasks import EvalResult
from kgnlu.qa.evaluate import percentiles


def test_registry_lists_every_eval_command():
    from typer.main import get_command

    from kgnlu.cli import app

    group = get_command(app).commands["eval"]
    commands = set(group.commands) - {"all"}
    assert set(eval_tasks()) == commands == {"link", "kge", "qa", "probe", "fewshot", "supersense", "pos", "choice"}
    assert default_tasks() == ("link", "kge", "qa", "probe", "fewshot")  # `eval all`'s default, as before
    for name, task in eval_tasks().items():
        assert task.name == name and callable(task.run) and callable(task.headline) and callable(task.suite_args)


def test_eval_all_runs_every_registered_task_in_process(tmp_path, monkeypatch):
    """Each task's suite arguments reach its run() (no typer command, no JSON re-read); a task that
    lacks its model is skipped with the reason its suite_args gives."""
    import dataclasses

    calls = {}

    def fake(name):
        def run(**kwargs):
            calls[name] = kwargs
            return EvalResult(name, {"task": name}, f"# {name}\n", (), {f"{name} score": 0.5})
        return run

    cfg = SuiteConfig(graph=tmp_path / "graph", out=tmp_path / "all", tasks=tuple(eval_tasks()),
                      qa_model=tmp_path / "qa-model", probe_runs=(tmp_path / "run",), probe_facts=tmp_path / "f",
                      causal_lm=tmp_path / "lm", supersense_model=tmp_path / "enc")
    (tmp_path / "qa-model").mkdir()
    (tmp_path / "qa-model" / "config.json").write_text("{}")
    for name, task in eval_tasks().items():
        suite_args = task.suite_args if name != "kge" else (lambda c: {"graph": c.graph, "out": c.out / "kge"})
        monkeypatch.setitem(eval_tasks()._items, name, dataclasses.replace(task, run=fake(name), suite_args=suite_args))
    summary = run_suite(cfg, report=lambda s: None)
    assert set(calls) == set(eval_tasks())
    assert calls["qa"]["model"] == tmp_path / "qa-model" and calls["qa"]["out"] == tmp_path / "all" / "qa"
    assert calls["fewshot"]["model"] == tmp_path / "lm" and calls["supersense"]["model"] == tmp_path / "enc"
    assert [t["status"] for t in summary["tasks"]] == ["ok"] * len(calls)
    assert "| pos | pos score | 0.500 |" in (tmp_path / "all" / "summary.md").read_text()

    cfg = SuiteConfig(graph=tmp_path / "graph", out=tmp_path / "none", tasks=("fewshot", "supersense", "probe"))
    summary = run_suite(cfg, report=lambda s: None)
    assert [(t["status"], t["reason"].split()[1]) for t in summary["tasks"]] == [
        ("skipped", "--causal-lm"), ("skipped", "--supersense-model"), ("skipped", "--probe-run")]


def test_percentiles_interpolate_between_closest_ranks():
    assert percentiles([1, 2, 3, 4]) == {"p50": 2.5, "p95": 3.85}
    assert percentiles(list(range(1, 101))) == {"p50": 50.5, "p95": 95.05}
    assert percentiles([7.0]) == {"p50": 7.0, "p95": 7.0}
    assert percentiles([10, 1, 5], qs=(0, 50, 100)) == {"p0": 1.0, "p50": 5.0, "p100": 10.0}
    from kgnlu.errors import QAError

    with pytest.raises(QAError):
        percentiles([])


def test_eval_pos_command_matches_its_task(tmp_path, capsys):
    result = eval_tasks().get("pos").run(split="dev", out=tmp_path / "lib")  # the tagger ships in the package
    assert main(["eval", "pos", "--out", str(tmp_path / "cli"), "--json"]) == 0
    printed = json.loads(capsys.readouterr().out.strip())
    assert printed == json.loads((tmp_path / "cli" / "pos.json").read_text())

    def untimed(report):  # tokens per second varies run to run
        return {name: {k: v for k, v in r.items() if "per_second" not in k} for name, r in report["taggers"].items()}

    assert untimed(printed) == untimed(json.loads(json.dumps(result.report)))
    assert result.metrics and all(0 <= v <= 1 for v in result.metrics.values())
