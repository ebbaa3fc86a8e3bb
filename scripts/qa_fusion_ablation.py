"""Issue 17 (item 5): what KG fusion buys question answering — the QA question encoder with and without the KG.

    python scripts/qa_fusion_ablation.py inputs     # linked corpus (scripts/fusion_evidence.py's corpus stage)
                                                    # + the TransE table; both reused when present
    python scripts/qa_fusion_ablation.py pretrain   # KAR-fused MiniLM and its no-fusion control, --steps each
    kgnlu data make-qa ~/.cache/kgnlu/graphs/default --out /tmp/qa-default-ablation --max-questions 8000
    python scripts/qa_fusion_ablation.py qa --data /tmp/qa-default-ablation [qa.KEY=VALUE ...] [--qa-config YAML]

``pretrain`` continues all-MiniLM-L6-v2 twice with ``kgnlu pretrain`` on the configs of issue 7
(``configs/fusion-minilm-{kar,control}.yaml``: the same linked corpus, sequences, entity masks,
seed and steps; only the fused run has KAR after layer 3 over the frozen TransE table), with the
step count, warm-up, entity table and output folder changed: runs go to
``$KGNLU_HOME/ablation/runs/{fused,control}`` (their ``encoder/`` and ``tokenizer/`` are the
question encoders), outside the repository.

The entity table (``GRAPH/embeddings/ablation-transe``) is issue 7's recipe
(reports/fusion/README.md) — TransE, 100-d, L1, 25 epochs, sLCWA with 64 self-adversarial
negatives, NSSA loss; ~5 min on one core. It is trained here rather than by fusion_evidence's
``kge`` stage, which now inherits ``configs/kge-transe.yaml``'s 1-N mode: scoring every one of
the default graph's 152k entities per triple did not finish one epoch in an hour on one core.

``qa`` trains three QA models that differ only in the question encoder — the packaged MiniLM,
the control encoder, the fused encoder (which reads each question's linked entities,
:class:`kgnlu.qa.question.QuestionEncoder`) — with ``kgnlu qa train GRAPH --data DIR --out DIR
[--encoder E --tokenizer T]`` and the same QA options (the positional ``qa.KEY=VALUE`` overrides
and ``--qa-config``, passed through unchanged), into ``$KGNLU_HOME/ablation/qa/<encoder>``, then
scores each on the hand-written default-graph set's **dev** split
(``kgnlu/eval/natural/default_qa.jsonl``; the other natural sets are about other graphs, which the
fused encoder's entity table does not cover). The test split is never read. Results:
``reports/qa-fusion/ablation.{json,md}`` (``--out``). Every long job runs with one torch thread.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

SCRIPTS = Path(__file__).resolve().parent
ROOT = SCRIPTS.parent
sys.path[:0] = [str(ROOT), str(SCRIPTS)]

import fusion_evidence  # noqa: E402  the corpus and kge stages, the issue-7 configs
import yaml  # noqa: E402

from kgnlu.kg.build import kgnlu_home  # noqa: E402

ENCODERS = ("minilm", "control", "fused")
KGE_NAME = "ablation-transe"
#: issue 7's table recipe (reports/fusion/README.md), given in full so that configs/kge-transe.yaml's
#: 1-N mode does not apply
KGE_OPTIONS = ["--model", "transe", "--dim", "100", "--epochs", "25", "--mode", "slcwa", "--loss", "nssa",
               "--margin", "6", "--negatives", "64", "--adversarial", "--batch-size", "512", "--lr", "0.003",
               "--eval-every", "0", "--patience", "0", "model.p=1", "sampling.shared=true",
               "sampling.adversarial_temperature=1.0", "threads=1"]
#: 1,000 steps (16k packed 64-token sequences): 15-19 min a run on one shared core (issue 7's 2,000 took ~45); warm-up 10%
STEPS = 1000
NATURAL_SET = ROOT / "kgnlu" / "eval" / "natural" / "default_qa.jsonl"
OUT = ROOT / "reports" / "qa-fusion"


def home() -> Path:
    return kgnlu_home() / "ablation"


def run_dir(name: str) -> Path:
    return home() / "runs" / name


def one_thread_env() -> dict[str, str]:
    return {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}


def table_dir(graph: Path) -> Path:
    return graph / "embeddings" / KGE_NAME


def stage_inputs(args) -> None:
    """The linked corpus of issue 7 (fusion_evidence's corpus stage, cached) and the TransE table."""
    fusion_evidence.main(["corpus", "--out", str(home() / "inputs"), "--threads", "1"])
    if (table_dir(args.graph) / "embeddings.safetensors").is_file() and not args.force:
        print(f"{table_dir(args.graph)} exists (--force retrains)")
        return
    command = [sys.executable, "-m", "kgnlu.cli", "kge", "train", str(args.graph), "--name", KGE_NAME,
               *KGE_OPTIONS, "--json"]
    print("$ " + shlex.join(command), flush=True)
    subprocess.run(command, check=True, env=one_thread_env())


def pretrain_config(name: str, steps: int, graph: Path = fusion_evidence.GRAPH) -> Path:
    """Issue 7's config for ``name`` (fused / control) with ``steps`` steps, this script's table and
    its run under $KGNLU_HOME."""
    config = yaml.safe_load(fusion_evidence.CONFIGS[name].read_text(encoding="utf-8"))
    config["name"] = f"qa-ablation-{name}"
    config["out_dir"] = str(run_dir(name))
    config["fusion"]["graph"] = str(graph)
    if config["fusion"].get("inject"):
        config["fusion"]["entity_table"] = str(table_dir(graph))
    config["trainer"].update(max_steps=steps, warmup_steps=max(1, steps // 10), checkpoint_every=max(1, steps // 4))
    path = home() / "configs" / f"{name}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path


def stage_pretrain(args) -> None:
    """Fused then control, one after the other, one thread each; a finished run is kept unless --force."""
    for name in ("fused", "control"):
        if (run_dir(name) / "summary.json").is_file() and not args.force:
            print(f"{run_dir(name)} is finished (--force retrains)")
            continue
        config = pretrain_config(name, args.steps, args.graph)
        command = [sys.executable, "-m", "kgnlu.cli", "pretrain", "--config", str(config), "--json"]
        print("$ " + shlex.join(command), flush=True)
        subprocess.run(command, check=True, env=one_thread_env())


def encoder_args(name: str) -> list[str]:
    """``kgnlu qa train`` options that pick the question encoder ``name``."""
    if name == "minilm":
        return []  # the packaged all-MiniLM-L6-v2
    run = run_dir(name)
    if not (run / "summary.json").is_file():
        raise SystemExit(f"no finished run at {run}: run the pretrain stage first")
    return ["--encoder", str(run / "encoder"), "--tokenizer", str(run / "tokenizer")]


def train_qa(name: str, args) -> dict:
    out = home() / "qa" / name
    command = [sys.executable, "-m", "kgnlu.cli", "qa", "train", str(args.graph), "--data", str(args.data),
               "--out", str(out), *encoder_args(name), *(["--config", str(args.qa_config)] if args.qa_config else []),
               "--json", *args.overrides]
    print("$ " + shlex.join(command), flush=True)
    start = time.perf_counter()
    done = subprocess.run(command, check=True, env=one_thread_env(), stdout=subprocess.PIPE, text=True)
    report = json.loads(done.stdout.strip().splitlines()[-1])
    return {"model": str(out), "command": shlex.join(["kgnlu", *command[3:]]),
            "wall_seconds": round(time.perf_counter() - start, 1), "training": report}


def score_dev(names, graph) -> dict[str, dict]:
    """hits@1/5 and MRR of each trained model on the natural default set's dev split (never test)."""
    import torch

    from kgnlu.eval.natural_qa import load_examples
    from kgnlu.eval.qa import evaluate_kgqa
    from kgnlu.kg.linker import EntityLinker
    from kgnlu.qa import KGQA
    from kgnlu.qa.evaluate import gold_records

    torch.set_num_threads(1)
    golds = {"dev": gold_records(load_examples(NATURAL_SET, graph, split="dev"))}
    linker = EntityLinker.from_graph(graph, mode="fast")  # what `kgnlu qa train` and KGQA.load use
    # the one KGQA evaluator (`kgnlu eval qa`), top 5 as this ablation always scored
    return {name: evaluate_kgqa(KGQA.load(home() / "qa" / name, graph=graph, linker=linker), golds, k=5,
                                latency_samples=0)[0]["splits"]["dev"] for name in names}


def pretrain_facts(name: str) -> dict | None:
    if name == "minilm":
        return None
    summary = json.loads((run_dir(name) / "summary.json").read_text(encoding="utf-8"))
    metrics = summary.get("metrics") or {}
    return {"run": str(run_dir(name)), "config": str(home() / "configs" / f"{name}.yaml"), "steps": summary["steps"],
            "train_seconds": summary["train_seconds"], "trainable_parameters": summary["trainable_parameters"],
            "final_mlm_loss": metrics.get("mlm_loss"), "final_mlm_accuracy": metrics.get("mlm_accuracy")}


def stage_qa(args) -> None:
    from kgnlu.kg import KnowledgeGraph
    from kgnlu.qa.data.files import load_meta
    from kgnlu.qa.storage import graph_checksum

    graph = KnowledgeGraph.load(args.graph, verify=False)
    for name in ENCODERS:
        encoder_args(name)  # fail before training anything when a run is missing
    trained = {}
    if args.rescore:
        for name in ENCODERS:
            previous = json.loads((args.out / "ablation.json").read_text(encoding="utf-8"))["models"][name]
            trained[name] = {k: v for k, v in previous.items() if k != "natural_default_dev"}
    else:
        trained = {name: train_qa(name, args) for name in ENCODERS}
    scores = score_dev(ENCODERS, graph)
    meta = load_meta(args.data)
    result = {
        "issue": "17 (item 5): the QA question encoder with and without the KG",
        "note": args.note, "graph": {"name": graph.name, "path": str(args.graph), "checksum": graph_checksum(graph)},
        "data": {"path": str(args.data), "meta": {"graph": meta.get("graph"), "config": meta.get("config"),
                                                  "counts": {split: {k: c.get(k) for k in ("total", "by_hops")}
                                                             for split, c in (meta.get("counts") or {}).items()}}},
        "qa_options": {"overrides": args.overrides, "config": str(args.qa_config) if args.qa_config else None},
        "scored_on": {"set": str(NATURAL_SET.relative_to(ROOT)), "split": "dev"},
        "command": shlex.join(["python", "scripts/qa_fusion_ablation.py", *sys.argv[1:]]),
        "models": {name: {**trained[name], "encoder": encoder_args(name)[1] if name != "minilm" else "packaged",
                          "pretraining": pretrain_facts(name), "natural_default_dev": scores[name]}
                   for name in ENCODERS},
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "ablation.json").write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    (args.out / "ablation.md").write_text(markdown(result), encoding="utf-8")
    print(markdown(result))


def markdown(result: dict) -> str:
    models = result["models"]
    hops = sorted({h for m in models.values() for h in m["natural_default_dev"]["by_hops"]})
    head = "| question encoder | hits@1 | hits@5 | MRR | " + " | ".join(f"{h}-hop hits@1" for h in hops)
    head += " | generated dev hits@1 | QA training s |"
    lines = ["# QA question encoder: with and without the KG (issue 17)", ""]
    if result["note"]:
        lines += [f"**{result['note']}**", ""]
    dev = models["minilm"]["natural_default_dev"]
    lines += [f"Scored on `{result['scored_on']['set']}`, dev split only ({dev['questions']} questions; gold walked "
              f"on graph `{result['graph']['name']}`). QA options: `{' '.join(result['qa_options']['overrides']) or '(defaults)'}`"
              + (f", config `{result['qa_options']['config']}`" if result["qa_options"]["config"] else "") + ".", "",
              head, "|---" * (6 + len(hops)) + "|"]
    names = {"minilm": "all-MiniLM-L6-v2 as packaged", "control": "control (MLM-continued, no fusion)",
             "fused": "fused (KAR + TransE, reads linked entities)"}
    for name, m in models.items():
        d, gen = m["natural_default_dev"], m["training"].get("dev", {})
        cells = [names[name], f"{d['hits@1']:.3f}", f"{d['hits@5']:.3f}", f"{d['mrr']:.3f}",
                 *(f"{d['by_hops'][h]['hits@1']:.3f} ({d['by_hops'][h]['questions']})" if h in d["by_hops"] else "—"
                   for h in hops),
                 f"{max(gen.get('hits@1_with_gnn', 0.0), gen.get('hits@1_without_gnn', 0.0)):.3f}" if gen else "—",
                 f"{m['training'].get('seconds', 0):.0f}"]
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "Encoders (continued pretraining, `kgnlu pretrain`, one CPU thread each):", ""]
    for name in ("control", "fused"):
        p = models[name]["pretraining"]
        acc = p["final_mlm_accuracy"]
        lines.append(f"- {name}: `{p['config']}` → `{p['run']}`; {p['steps']} steps in {p['train_seconds'] / 60:.1f} min, "
                     f"{p['trainable_parameters']:,} trainable weights, last logged MLM accuracy "
                     + (f"{acc:.3f}" if isinstance(acc, float) else "n/a"))
    lines += ["", "Commands:", "", "```", "python scripts/qa_fusion_ablation.py inputs",
              "python scripts/qa_fusion_ablation.py pretrain" + ("" if STEPS == _steps(models) else f" --steps {_steps(models)}"),
              f"# QA data: {result['data']['path']} (kgnlu data make-qa)", result["command"], "# which ran:"]
    lines += [m["command"] for m in models.values()]
    lines += ["```", ""]
    return "\n".join(lines)


def _steps(models: dict) -> int:
    return int(models["fused"]["pretraining"]["steps"])


STAGES = {"inputs": stage_inputs, "pretrain": stage_pretrain, "qa": stage_qa}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument("stage", choices=sorted(STAGES))
    parser.add_argument("overrides", nargs="*", help="qa: QA options for `kgnlu qa train`, e.g. qa.epochs=1.")
    parser.add_argument("--force", action="store_true", help="inputs, pretrain: retrain the table, finished runs.")
    parser.add_argument("--steps", type=int, default=STEPS, help="pretrain: optimizer steps per run.")
    parser.add_argument("--graph", type=Path, default=fusion_evidence.GRAPH, help="The graph (default graph).")
    parser.add_argument("--data", type=Path, help="qa: a `kgnlu data make-qa` folder of the graph.")
    parser.add_argument("--qa-config", type=Path, help="qa: a YAML with a `qa:` section for `kgnlu qa train`.")
    parser.add_argument("--rescore", action="store_true", help="qa: score the models trained last time again.")
    parser.add_argument("--note", default="", help="qa: a line shown at the top of the report.")
    parser.add_argument("--out", type=Path, default=OUT, help="qa: report folder.")
    args = parser.parse_intermixed_args(argv)
    if args.overrides and args.stage != "qa":
        parser.error("qa.KEY=VALUE overrides are for the qa stage")
    if args.stage == "qa" and args.data is None:
        parser.error("the qa stage needs --data (a `kgnlu data make-qa` folder)")
    args.graph, args.out = args.graph.expanduser(), args.out.resolve()
    if args.data is not None:
        args.data = args.data.expanduser().resolve()
    STAGES[args.stage](args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
