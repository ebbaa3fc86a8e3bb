"""Issue 23's fusion evidence: the cloze probe of KnowBERT's KAR and LUKE's entity tokens built as
their papers build them, beside the compact KAR and the control, all at the same (CPU-sized) step
count, corpus, masks, seed, entity table and trainable layers.

    python scripts/fusion_paper_options.py kge        # the table, if missing (qa_fusion_ablation.py inputs)
    python scripts/fusion_paper_options.py pretrain --steps 400
    python scripts/fusion_paper_options.py probe      # → reports/fusion-paper-options/probe.{json,md,png}

Runs land in runs/paper-options/<name>; each `pretrain` run is ``kgnlu pretrain --config C
--max-steps N out_dir=runs/paper-options/<name> fusion.entity_table=TABLE`` with one thread. The
configs: configs/fusion-minilm-{control,kar,kar-paper,luke-paper}.yaml. TABLE is
GRAPH/embeddings/ablation-transe, issue 7's 100-d TransE recipe (25 epochs, 64 shared negatives)
as scripts/qa_fusion_ablation.py trains it, so every run reads the same table.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
CORPUS = Path("~/.cache/kgnlu/corpora/fusion-linked").expanduser()
GRAPH = Path("~/.cache/kgnlu/graphs/default").expanduser()
RUN_ROOT = ROOT / "runs" / "paper-options"
OUT = ROOT / "reports" / "fusion-paper-options"
TABLE = GRAPH / "embeddings" / "ablation-transe"
NAMES = ("control", "kar-paper", "luke-paper", "kar")


def stage_kge(args) -> None:
    subprocess.run([sys.executable, str(ROOT / "scripts" / "qa_fusion_ablation.py"), "inputs"], check=True)


def stage_pretrain(args) -> None:
    for name in args.only or NAMES:
        run = RUN_ROOT / name
        if (run / "summary.json").is_file() and not args.force:
            print(f"{run} is done (--force reruns)", flush=True)
            continue
        if args.force and run.exists():  # a rerun starts over: `kgnlu pretrain` would resume the old checkpoints
            shutil.rmtree(run)
        started = time.perf_counter()
        table = [] if name == "control" else [f"fusion.entity_table={TABLE}"]  # the control reads no table
        subprocess.run([sys.executable, "-m", "kgnlu.cli", "pretrain", "--config",
                        str(ROOT / "configs" / f"fusion-minilm-{name}.yaml"), "--max-steps", str(args.steps),
                        f"out_dir={run}", *table, "--json"], check=True, env={**os.environ, "OMP_NUM_THREADS": "1"})
        print(f"{name}: {time.perf_counter() - started:.0f} s", flush=True)


def stage_probe(args) -> None:
    from kgnlu.eval.probe import ProbeConfig, markdown_report, plot_report, probe_runs
    from kgnlu.fusion.corpus import read_probe_facts
    from kgnlu.io import atomic_write
    from kgnlu.kg import KnowledgeGraph

    runs = [str(RUN_ROOT / name) for name in NAMES if (RUN_ROOT / name / "summary.json").is_file()]
    config = ProbeConfig(max_facts=args.max_facts or None, templates=args.templates or None)
    started = time.perf_counter()
    report = probe_runs(runs, read_probe_facts(CORPUS), config, graph=KnowledgeGraph.load(GRAPH, verify=False),
                        ablate_entities=True)
    report["seconds"] = round(time.perf_counter() - started, 1)
    report["steps"] = {Path(r).name: json.loads((Path(r) / "summary.json").read_text()).get("steps") for r in runs}
    report["command"] = "python scripts/fusion_paper_options.py probe" + (
        f" --max-facts {args.max_facts}" if args.max_facts else "") + (f" --templates {args.templates}"
                                                                       if args.templates else "")
    OUT.mkdir(parents=True, exist_ok=True)
    with atomic_write(OUT / "probe.json") as f:
        json.dump(report, f, indent=2)
    (OUT / "probe.md").write_text(markdown_report(report), encoding="utf-8")
    plot_report(report, OUT / "probe.png")
    print(markdown_report(report))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("stage", choices=["kge", "pretrain", "probe"])
    parser.add_argument("--steps", type=int, default=500, help="optimizer steps of every run (the same for all)")
    parser.add_argument("--only", nargs="*", choices=NAMES, help="pretrain only these runs")
    parser.add_argument("--force", action="store_true", help="delete and rerun finished runs")
    parser.add_argument("--max-facts", type=int, default=0, help="probe: at most this many facts (0 = all)")
    parser.add_argument("--templates", type=int, default=0, help="probe: templates per relation (0 = all)")
    args = parser.parse_args()
    {"kge": stage_kge, "pretrain": stage_pretrain, "probe": stage_probe}[args.stage](args)


if __name__ == "__main__":
    main()
