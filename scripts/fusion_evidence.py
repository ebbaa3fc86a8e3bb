"""Issue 7's evidence: does fusing graph embeddings into MiniLM teach it facts the text never states?

    python scripts/fusion_evidence.py corpus       # linked corpus (held-out probe facts left out of the text)
    python scripts/fusion_evidence.py kge          # TransE on the default graph → GRAPH/embeddings/fusion-transe
    python scripts/fusion_evidence.py kge-check    # how well the TransE table itself ranks the probe answers
                                                   # (--table NAME: another stored table, e.g. fusion-rotate)
  Any stage takes --fused-config (another fused run, e.g. configs/fusion-minilm-kar-rotate.yaml) and --out.
    python scripts/fusion_evidence.py pretrain     # fused run and its control (same steps), one after the other
    python scripts/fusion_evidence.py probe        # cloze probe: fused (with / without entities) vs control
    python scripts/fusion_evidence.py mlm-eval     # MLM loss on unseen linked text, same three models
    python scripts/fusion_evidence.py supersense   # frozen supersense probe: MiniLM, fused, control
    python scripts/fusion_evidence.py wsd          # WordNet word senses, neural linker over each encoder
    python scripts/fusion_evidence.py slot-check   # graph-slot runs: answer among the slot's candidates? KAR's pick?
    python scripts/fusion_evidence.py report       # reports/fusion/summary.json + curves

Every stage reuses what an earlier one left (the corpus cache, finished runs). The two pretraining
runs are plain ``kgnlu pretrain --config configs/fusion-minilm-{kar,control}.yaml``; on the shared
machine they were started side by side in the background with one torch thread each.
Outputs go to ``reports/fusion/`` (JSON, PNG, markdown), committed with the code.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402
import yaml  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
GRAPH = Path("~/.cache/kgnlu/graphs/default").expanduser()
CORPUS = Path("~/.cache/kgnlu/corpora/fusion-linked").expanduser()
KGE_NAME = "fusion-transe"
RUNS = {"fused": ROOT / "runs" / "fusion-minilm-kar", "control": ROOT / "runs" / "fusion-minilm-control"}
CONFIGS = {"fused": ROOT / "configs" / "fusion-minilm-kar.yaml", "control": ROOT / "configs" / "fusion-minilm-control.yaml"}
OUT = ROOT / "reports" / "fusion"


def graph():
    from kgnlu.kg import KnowledgeGraph

    return KnowledgeGraph.load(GRAPH, verify=False)


def write_json(name: str, data) -> Path:
    from kgnlu.io import atomic_write

    with atomic_write(OUT / name) as f:
        json.dump(data, f, indent=2)
    return OUT / name


def stage_corpus(args) -> None:
    from kgnlu.fusion.corpus import LinkedCorpusConfig, build_linked_corpus

    meta = build_linked_corpus(graph(), CORPUS, LinkedCorpusConfig())
    write_json("corpus.json", {k: v for k, v in meta.items() if k != "fingerprint"} | {"config": meta["fingerprint"]})
    print(json.dumps({k: v for k, v in meta.items() if k != "fingerprint"}))


def stage_kge(args) -> None:
    if (GRAPH / "embeddings" / KGE_NAME / "embeddings.safetensors").is_file() and not args.force:
        print(f"{GRAPH}/embeddings/{KGE_NAME} exists (--force retrains)")
        return
    subprocess.run([sys.executable, "-m", "kgnlu.cli", "kge", "train", str(GRAPH), "--config",
                    str(ROOT / "configs" / "kge-transe.yaml"), "--name", KGE_NAME, "--dim", "100", "--epochs", "25",
                    "--negatives", "64", "--eval-every", "0", "--patience", "0", "threads=1", "--json"], check=True)


def stage_kge_check(args) -> None:
    """The table's own ranking of each probe fact's answer among the relation's candidates, scored by
    the model it was trained as (TransE: -||h + r - t|| in its own norm)."""
    from kgnlu.data.probe_data import relation_by_name
    from kgnlu.eval.probe import candidate_pools, metrics
    from kgnlu.fusion.corpus import read_probe_facts
    from kgnlu.kge.storage import load_embeddings

    kg = graph()
    stored = load_embeddings(GRAPH, args.table)
    model = stored.to_model().eval()
    facts = read_probe_facts(CORPUS)
    answer_ids: dict[str, dict[str, int]] = {}
    for fact in facts:
        answer_ids.setdefault(fact.relation, {})[fact.answer_label] = kg.index_of(fact.answer)
    pools = candidate_pools(facts)
    ranks: dict[str, dict[str, list[int]]] = {}
    for fact in facts:
        r = kg.relation_index(relation_by_name(fact.relation).relation)
        labels = [label for label in pools[fact.relation] if label == fact.answer_label or label not in fact.answers]
        rows = torch.tensor([answer_ids[fact.relation][label] for label in labels])
        with torch.no_grad():  # (1, candidates): higher = more plausible
            scores = model.score_t(torch.tensor([kg.index_of(fact.subject)]), torch.tensor([r]), rows)[0]
        gold = scores[labels.index(fact.answer_label)]
        ranks.setdefault(fact.split, {}).setdefault(fact.relation, []).append(1 + int((scores > gold).sum()))
    report = {split: {rel: metrics(v) for rel, v in sorted(per.items())} for split, per in ranks.items()}
    write_json("kge_check.json", {"embeddings": str(stored.path), "training": stored.config.get("train"),
                                  "final_loss": stored.config.get("final_loss"), "ranks": report})
    print(json.dumps(report["heldout"]))


def stage_label_table(args) -> None:
    """GRAPH/embeddings/<table>-label: the --table KGE rows ⊕ the mean MiniLM word embedding of each
    entity's label (kgnlu.fusion.label_table), for runs whose slots must spell the entity they pick."""
    from kgnlu.data.tokenizer import load_minilm_tokenizer
    from kgnlu.encoders.pretrained import load_minilm
    from kgnlu.fusion.kg_encoder import load_entity_table
    from kgnlu.fusion.label_table import label_embeddings, save_entity_table

    folder = GRAPH / "embeddings" / f"{args.table}-label"
    if (folder / "embeddings.safetensors").is_file() and not args.force:
        print(f"{folder} exists (--force rebuilds)")
        return
    kg = graph()
    kge, reference = load_entity_table(GRAPH / "embeddings" / args.table)
    words = load_minilm().get_input_embeddings().weight  # (V, 384): MiniLM's own input embeddings
    labels = label_embeddings(kg.entity_labels(), load_minilm_tokenizer(), words)  # (E, 384)
    save_entity_table(torch.cat([kge, labels], dim=1), folder,
                      {"kge": reference, "labels": "mean all-MiniLM-L6-v2 input embedding of the label's wordpieces"})
    print(json.dumps({"table": str(folder), "shape": [kge.shape[0], kge.shape[1] + labels.shape[1]]}))


def stage_pretrain(args) -> None:
    for name, config in CONFIGS.items():
        if (RUNS[name] / "summary.json").is_file() and not args.force:
            continue
        subprocess.run([sys.executable, "-m", "kgnlu.cli", "pretrain", "--config", str(config), "--json"], check=True,
                       env={**os.environ, "OMP_NUM_THREADS": "1"})


def stage_probe(args) -> None:
    from kgnlu.eval.probe import ProbeConfig, markdown_report, plot_report, probe_runs
    from kgnlu.fusion.corpus import read_probe_facts

    config = ProbeConfig(max_facts=args.max_facts or None, templates=args.templates or None)
    start = time.perf_counter()
    report = probe_runs([str(RUNS["fused"]), str(RUNS["control"])], read_probe_facts(CORPUS), config, graph=graph(),
                        ablate_entities=True)
    report["seconds"] = round(time.perf_counter() - start, 1)
    write_json("probe.json", report)
    (OUT / "probe.md").write_text(markdown_report(report), encoding="utf-8")
    plot_report(report, OUT / "probe.png")
    print(markdown_report(report))


def mlm_only(model, batch) -> dict[str, torch.Tensor]:
    """The MLM objective's loss and accuracy alone (a run's other objectives, e.g. ``el``, need
    entity inputs that the ablated batches lack)."""
    from kgnlu.fusion.alignment import EntityInputs

    inputs = {k: batch[k] for k in ("attention_mask", "token_type_ids") if k in batch}
    if "entity_ids" in batch and getattr(model.encoder, "accepts_entities", False):
        inputs["entities"] = EntityInputs.from_batch(batch)
    parts = model.objectives["mlm"](batch, model.encoder(batch["input_ids"], **inputs))
    return {"mlm_loss": parts["loss"], "mlm_accuracy": parts["accuracy"]}


def stage_mlm_eval(args) -> None:
    """Masked-LM loss on linked text no run trained on (the corpus's last records), per source:
    the fused run with its entity inputs, the same run without them, and the control — same masks."""
    from kgnlu.fusion.corpus import read_linked
    from kgnlu.fusion.data import FusionCollator, pack_records
    from kgnlu.pretrain.fused import entity_rows, load_pretraining_model, slot_helpers

    records = list(read_linked(CORPUS))
    tail = records[-args.mlm_records:]  # runs read the corpus from the start: 300 steps used the first ~20k
    models = {name: load_pretraining_model(run) for name, run in RUNS.items()}
    _, tokenizer, spec = models["fused"]
    kg = graph()
    collate = FusionCollator(tokenizer, entity_rows(kg), spec.data, *slot_helpers(kg, tokenizer, spec.data))
    results = {}
    for source in ("geonames", "wordnet"):
        chosen = [r for r in tail if r["source"] == source]
        items = [{**pack_records(chosen[i:i + 3]), "seed": (1, 0, i)} for i in range(0, len(chosen), 3)]
        sums: dict[str, list[float]] = {}
        for lo in range(0, len(items), 16):
            batch = collate(items[lo:lo + 16])
            plain = {k: v for k, v in batch.items() if not k.startswith("entity_")}
            with torch.no_grad():
                outputs = {"fused": mlm_only(models["fused"][0], batch),
                           "fused (no entities)": mlm_only(models["fused"][0], plain),
                           "control": mlm_only(models["control"][0], plain)}
            masked = int((batch["labels"] != -100).sum())
            for name, out in outputs.items():
                total = sums.setdefault(name, [0.0, 0.0, 0])
                total[0] += float(out["mlm_loss"]) * masked
                total[1] += float(out["mlm_accuracy"]) * masked
                total[2] += masked
        results[source] = {name: {"mlm_loss": t[0] / t[2], "mlm_accuracy": t[1] / t[2], "masked_tokens": t[2]}
                           for name, t in sums.items()}
    write_json("mlm_eval.json", {"records": args.mlm_records, "results": results})
    print(json.dumps(results, indent=1))


def encoders():
    """name → (encoder usable on text alone, tokenizer): MiniLM as packaged, the fused run's, the control's."""
    from kgnlu.data.tokenizer import load_minilm_tokenizer
    from kgnlu.encoders.pretrained import load_minilm
    from kgnlu.pretrain.fused import load_pretraining_model

    out = {"minilm": (load_minilm(), load_minilm_tokenizer())}
    for name, run in RUNS.items():
        model, tokenizer, _ = load_pretraining_model(run)
        out[name] = (model.encoder, tokenizer)  # a KGEncoder with no entities is its plain encoder
    return out


def stage_supersense(args) -> None:
    from kgnlu.eval.supersense import SupersenseProbeConfig, probe_supersense, supersense_splits

    splits = supersense_splits(seed=0)
    config = SupersenseProbeConfig(train_examples=args.supersense_train, test_examples=args.supersense_test)
    results = {name: probe_supersense(encoder, tokenizer, splits, config)
               for name, (encoder, tokenizer) in encoders().items()}
    write_json("supersense.json", {"task": "frozen-encoder supersense probe (kgnlu.eval.supersense.probe_supersense)",
                                   "config": vars(config), "results": results})
    print(json.dumps({k: {m: v.get(m) for m in ("accuracy", "macro_f1")} for k, v in results.items()}))


def stage_wsd(args) -> None:
    from kgnlu.eval.linking import run_linking_eval
    from kgnlu.kg.linker.dense_index import TextEncoder

    kg = graph()
    results = {}
    for name, (encoder, tokenizer) in encoders().items():
        report = run_linking_eval(kg, tasks=["wordnet"], modes=["neural"], wordnet_limit=args.wsd_limit,
                                  encoder=TextEncoder(encoder, tokenizer, batch_size=64))
        results[name] = report["tasks"]["wordnet"]
    write_json("wsd.json", {"task": "WordNet word senses, neural linker with each encoder (kgnlu.eval.linking)",
                            "wordnet_limit": args.wsd_limit, "results": results})
    print(json.dumps({k: v["neural"] for k, v in results.items()}, default=str)[:2000])


def stage_slot_check(args) -> None:
    """For a run trained with graph slots: on each held-out fact (first template), is the answer among
    the slot's graph candidates, and does KAR's ψ pick it (vs 1 / candidates by chance)?"""
    from kgnlu.data.probe_data import relation_by_name
    from kgnlu.eval.probe import ClozeScorer, fill
    from kgnlu.fusion.corpus import read_probe_facts
    from kgnlu.kg.linker import EntityLinker
    from kgnlu.pretrain.fused import entity_rows, load_pretraining_model, slot_helpers

    model, tokenizer, spec = load_pretraining_model(RUNS["fused"])
    if not spec.data.graph_slots:
        raise SystemExit(f"{RUNS['fused']} was not trained with fusion.data.graph_slots")
    kg = graph()
    neighbourhood, label_pieces = slot_helpers(kg, tokenizer, spec.data)
    scorer = ClozeScorer(model, tokenizer, EntityLinker.from_graph(kg, mode="fast"), entity_rows(kg),
                         spec.data.max_length, spec.data.max_entities, spec.data.max_candidates,
                         neighbourhood, label_pieces)  # the probe's own inputs
    counts: dict[str, dict[str, float]] = {}
    for fact in read_probe_facts(CORPUS):
        if fact.split != "heldout":
            continue
        row = counts.setdefault(fact.relation, {"facts": 0, "answer_among_candidates": 0, "picked": 0, "chance": 0.0})
        pieces = len(tokenizer.encode(fact.answer_label, add_special_tokens=False))
        tokens, entities, _, slots = scorer.prepare([fill(relation_by_name(fact.relation).templates[0],
                                                          fact.subject_label, pieces)])
        row["facts"] += 1
        if not bool(slots.any()):
            continue
        slot = int(slots[0].nonzero()[0])
        candidates = entities.candidate_ids[0, slot][entities.candidate_mask[0, slot]].tolist()
        gold = kg.index_of(fact.answer)
        if gold not in candidates:
            continue
        with torch.inference_mode():
            out = model.encoder(tokens.input_ids, tokens.attention_mask, tokens.token_type_ids, entities=entities)
        row["answer_among_candidates"] += 1
        row["picked"] += candidates[int(out.candidate_logits[0, slot, :len(candidates)].argmax())] == gold
        row["chance"] += 1.0 / len(candidates)
    total = {k: sum(r[k] for r in counts.values()) for k in ("facts", "answer_among_candidates", "picked", "chance")}
    report = {"run": str(RUNS["fused"]), "relations": counts, "all": total,
              "pick_accuracy": total["picked"] / max(total["answer_among_candidates"], 1),
              "chance": total["chance"] / max(total["answer_among_candidates"], 1)}
    write_json("slot_check.json", report)
    print(json.dumps({k: v for k, v in report.items() if k != "relations"}))


def stage_report(args) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    curves, summaries = {}, {}
    for name, run in RUNS.items():
        rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines() if line.strip()]
        curves[name] = [(r["step"], r["mlm_loss"], r.get("mlm_accuracy")) for r in rows if r.get("split") == "train"]
        summaries[name] = json.loads((run / "summary.json").read_text()) if (run / "summary.json").is_file() else None
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.6))
    for name, points in curves.items():
        steps = [p[0] for p in points]
        left.plot(steps, [p[1] for p in points], label=name)
        right.plot(steps, [p[2] for p in points], label=name)
    left.set(xlabel="step", ylabel="MLM loss", title="training MLM loss")
    right.set(xlabel="step", ylabel="MLM accuracy", title="training MLM accuracy (masked tokens)")
    left.legend()
    fig.tight_layout()
    fig.savefig(OUT / "pretrain_curves.png", dpi=120)
    plt.close(fig)
    summary = {"runs": summaries, "configs": {k: str(v.relative_to(ROOT)) for k, v in CONFIGS.items()}}
    for part in ("corpus", "kge_check", "probe", "mlm_eval", "supersense", "wsd"):
        path = OUT / f"{part}.json"
        if path.is_file():
            data = json.loads(path.read_text())
            if part == "probe":
                data = {name: {split: {sub: rep["splits"][split][sub]["macro"] for sub in ("all", "uhn")}
                               for split in ("heldout", "seen")} for name, rep in data["models"].items()}
            summary[part] = data
    from kgnlu.eval.probe import candidate_pools
    from kgnlu.fusion.corpus import read_probe_facts

    pools = candidate_pools(read_probe_facts(CORPUS))  # a random ranking's P@1 is about 1 / candidates
    chance = {rel: 1.0 / len(labels) for rel, labels in sorted(pools.items())}
    summary["probe_chance_p@1"] = {"relations": chance, "macro": sum(chance.values()) / len(chance)}
    write_json("summary.json", summary)
    print(json.dumps({k: v for k, v in summary.items() if k in ("probe",)}, indent=1))


STAGES = {"corpus": stage_corpus, "kge": stage_kge, "kge-check": stage_kge_check, "label-table": stage_label_table,
          "pretrain": stage_pretrain, "slot-check": stage_slot_check,
          "probe": stage_probe, "mlm-eval": stage_mlm_eval, "supersense": stage_supersense, "wsd": stage_wsd, "report": stage_report}


def main(argv: list[str] | None = None) -> int:
    global OUT  # the stages write under it
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument("stage", choices=sorted(STAGES))
    parser.add_argument("--force", action="store_true", help="Redo a stage whose output exists.")
    parser.add_argument("--max-facts", type=int, default=50, help="Probe facts per relation and split (0 = all).")
    parser.add_argument("--templates", type=int, default=1, help="Probe templates per relation (0 = all).")
    parser.add_argument("--supersense-train", type=int, default=2000)
    parser.add_argument("--supersense-test", type=int, default=1000)
    parser.add_argument("--mlm-records", type=int, default=3000, help="Unseen corpus records for mlm-eval.")
    parser.add_argument("--wsd-limit", type=int, default=300, help="WordNet word-sense examples.")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (the machine is shared).")
    parser.add_argument("--table", default=KGE_NAME, help="kge-check: the stored embeddings to rank with "
                        "(GRAPH/embeddings/NAME).")
    parser.add_argument("--fused-config", type=Path, default=CONFIGS["fused"],
                        help="The fused run's config (its out_dir is the run); the control stays the same.")
    parser.add_argument("--out", type=Path, default=OUT, help="Report folder.")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    OUT = args.out.resolve()
    CONFIGS["fused"] = args.fused_config.resolve()
    RUNS["fused"] = ROOT / yaml.safe_load(args.fused_config.read_text(encoding="utf-8"))["out_dir"]
    OUT.mkdir(parents=True, exist_ok=True)
    STAGES[args.stage](args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
