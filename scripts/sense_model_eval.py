"""The word-sense bi-encoder (``kgnlu train-senses``) beside the linker's baselines; writes
reports/link/sense-model.{md,json}.

    .venv/bin/python scripts/sense_model_eval.py --tune            # dev only: pick the sense weights
    .venv/bin/python scripts/sense_model_eval.py --sense 20 --sense-neural 0.5
    .venv/bin/python scripts/sense_model_eval.py ... --natural-test  # once, with the final weights

Rows, each on the same candidate sets (the linker's, gold span given for WordNet's examples):

- ``prior``: most frequent sense (cntlist prior) — the linker with every cue but the prior off;
- ``fast`` / ``neural``: the linker as shipped (``neural`` = frozen MiniLM cosine of the text
  segment and the entity text: the frozen baseline);
- ``bem-frozen``: the bi-encoder's architecture (target-word context vector vs gloss vector)
  with both encoders still the packaged MiniLM, scored alone;
- ``bem``: the trained bi-encoder alone; ``fast+bem`` / ``neural+bem``: it joins the linker's
  features with weight ``--sense`` (and ``--sense-neural`` scaling the MiniLM cosine).

Tuning (``--tune``) reads only dev data: the hand-written WordNet dev split and WordNet examples
of non-held-out synsets that training did not sample. The held-out synsets' examples and the
hand-written test split are never read by it; ``--natural-test`` scores the test split once with
the final weights and records only the figure.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

BEM_ONLY = {"prior": 0.0, "lexical": 0.0, "neural": 0.0, "coherence": 0.0, "case": 0.0, "label": 0.0,
            "pos": 0.0, "match": 0.0, "sense": 20.0, "nil_logit": -30.0}
PRIOR_ONLY = {"lexical": 0.0, "neural": 0.0, "coherence": 0.0, "case": 0.0, "label": 0.0}


def set_weights(linker, weights: dict) -> None:
    from kgnlu.kg.linker import Weights

    w = Weights.from_dict(weights)
    linker.config.weights = w
    linker.disambiguator.weights = w


def memoise(linker) -> None:
    """Replays with other weights re-use context encodings: the encoders' outputs per input are kept."""
    import numpy as np

    if linker.encoder is not None:
        enc, seen = linker.encoder.encode, {}

        def encode(texts):
            new = [t for t in dict.fromkeys(texts) if t not in seen]
            if new:
                seen.update(zip(new, enc(new), strict=True))
            return np.stack([seen[t] for t in texts]) if texts else enc(texts)

        linker.encoder.encode = encode
    if linker.senses is not None:
        score, memo = linker.senses.scorer.score, {}

        def score_items(items):
            keys = [(t, s, e, tuple(c)) for t, s, e, c in items]
            new = [k for k in dict.fromkeys(keys) if k not in memo]
            if new:
                memo.update(zip(new, score([(t, s, e, list(c)) for t, s, e, c in new]), strict=True))
            return [memo[k] for k in keys]

        linker.senses.scorer.score = score_items


def trained_texts(model_dir: Path, wordnet: Path) -> set[str]:
    """The example sentences training sampled (from its training.json: count and seed)."""
    from kgnlu.kg.linker.sense_training import sense_training_data

    info = json.loads((model_dir / "training.json").read_text(encoding="utf-8"))
    sample = list(sense_training_data(wordnet).examples)
    random.Random(info["seed"]).shuffle(sample)
    return {x.text for x in sample[:info["examples"]]}


def wordnet_sets(kg, limit: int, dev_limit: int, exclude: set[str]):
    import spacy

    from kgnlu.eval.linking import _sample, wordnet_examples
    from kgnlu.kg.linker.index import read_morphology, wordnet_directories

    folder = [d for d in wordnet_directories(kg) if d.is_dir()][0]
    every = wordnet_examples(folder, spacy.blank("en"), read_morphology(kg))
    key = lambda x: f"{x.synset}\x00{x.text}"  # noqa: E731 — the evaluation's own sampling key
    heldout = _sample([x for x in every if x.split == "test"], limit, key)
    dev = _sample([x for x in every if x.split == "dev" and x.text not in exclude], dev_limit, key)
    return heldout, dev, folder


def wordnet_row(linker, examples) -> dict:
    from kgnlu.eval.linking import evaluate_wordnet

    r = evaluate_wordnet(linker, examples)
    return {"accuracy": r["open"]["accuracy"], "pos_given": r["pos_given"]["accuracy"],
            "mfs": r["open"]["mfs_accuracy"], "mfs_pos_given": r["pos_given"]["mfs_accuracy"],
            "examples": r["open"]["examples"], "seconds": round(r["seconds"], 1)}


def natural_row(linker, sentences) -> dict:
    from kgnlu.eval.link_natural_scoring import score_sentences

    r = score_sentences(linker, "wordnet", sentences, given_spans=True)
    return {"accuracy": r["accuracy"], "given_span_accuracy": r["given_span_accuracy"],
            "mentions": r["entity_mentions"], "by_pos": r.get("by_pos")}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", type=Path, default=None, help="sense model folder (default $KGNLU_HOME/models/senses)")
    ap.add_argument("--graph", type=Path, default=None, help="default graph (wordnet + geonames:15000)")
    ap.add_argument("--wordnet-limit", type=int, default=1500, help="held-out examples (the README's 1,500)")
    ap.add_argument("--dev-limit", type=int, default=400, help="unseen dev examples for --tune")
    ap.add_argument("--sense", type=float, default=None, help="weight of the sense feature")
    ap.add_argument("--sense-neural", type=float, default=None, help="scale of the MiniLM cosine beside it")
    ap.add_argument("--tune", action="store_true", help="grid over --sense/--sense-neural on dev data only")
    ap.add_argument("--natural-test", action="store_true", help="score the hand-written test split (once)")
    ap.add_argument("--skip-heldout", action="store_true")
    ap.add_argument("--natural-limit", type=int, default=0, help="first N dev sentences only (smoke runs)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", type=Path, default=Path("reports/link"))
    args = ap.parse_args(argv)

    import torch

    from kgnlu.eval.linking import definition_texts
    from kgnlu.eval.natural_link import read_set
    from kgnlu.kg import KnowledgeGraph
    from kgnlu.kg.build import default_graph_path
    from kgnlu.kg.linker import EntityLinker, Weights
    from kgnlu.kg.linker.sense_model import SenseModel, default_sense_model_path

    torch.set_num_threads(args.threads)
    model_dir = args.model or default_sense_model_path()
    kg = KnowledgeGraph.load(args.graph or default_graph_path(), verify=False)
    trained = SenseModel.from_pretrained(model_dir)
    frozen = SenseModel.minilm()
    defaults = Weights()
    sense = defaults.sense if args.sense is None else args.sense
    sense_neural = defaults.sense_neural if args.sense_neural is None else args.sense_neural
    joined = {"sense": sense, "sense_neural": sense_neural}
    say = lambda s: print(f"[{time.strftime('%H:%M:%S')}] {s}", file=sys.stderr, flush=True)  # noqa: E731

    natural_dev = [s for s in read_set("wordnet") if s.split == "dev"]
    if args.natural_limit:
        natural_dev = natural_dev[:args.natural_limit]
    exclude = trained_texts(model_dir, Path("/usr/share/wordnet")) \
        if args.dev_limit and (model_dir / "training.json").is_file() else set()
    heldout, dev, _ = wordnet_sets(kg, args.wordnet_limit, args.dev_limit, exclude)
    if args.dev_limit == 0:
        dev = []
    texts = definition_texts(kg)

    def linkers(entity_texts):
        """The five linkers over one index (built once: a graph's index takes minutes on a busy CPU)."""
        from kgnlu.kg.linker.linker import LinkerConfig
        from kgnlu.kg.linker.sense_model import LinkerSenses

        base = EntityLinker.from_graph(kg, "neural", entity_texts=entity_texts)

        def variant(mode, model=None, weights=None):
            neural = mode == "neural"
            linker = EntityLinker(kg, base.index, LinkerConfig(mode=mode, weights=Weights.from_dict(weights or {})),
                                  nlp=base.nlp, encoder=base.encoder if neural else None,
                                  embeddings=base.embeddings if neural else None, dense=base.dense if neural else None)
            if model is not None:
                linker.senses = LinkerSenses(model, kg, base.index.texts)
            return linker

        out = {"fast": variant("fast"), "neural": base, "fast+bem": variant("fast", trained),
               "neural+bem": variant("neural", trained), "bem-frozen": variant("fast", frozen, BEM_ONLY)}
        for linker in out.values():
            memoise(linker)
        return out

    report: dict = {"model": str(model_dir), "graph": str(kg.path), "weights": joined}
    if (model_dir / "training.json").is_file():
        report["training"] = json.loads((model_dir / "training.json").read_text(encoding="utf-8"))

    if args.tune:
        say("tuning on dev: hand-written dev split + unseen dev examples")
        nat = linkers(None)
        wn = linkers(texts) if dev else None
        grid = []
        for base in ("fast+bem", "neural+bem"):
            for s in (5.0, 10.0, 20.0, 30.0, 40.0):
                for sn in ((1.0,) if base == "fast+bem" else (0.0, 0.5, 1.0)):
                    w = {"sense": s, "sense_neural": sn}
                    set_weights(nat[base], w)
                    if wn is not None:
                        set_weights(wn[base], w)
                    row = {"linker": base, **w, "natural_dev": natural_row(nat[base], natural_dev)}
                    if dev:
                        row["wordnet_dev"] = wordnet_row(wn[base], dev)
                    grid.append(row)
                    say(f"{base} {w}: natural dev {row['natural_dev']['accuracy']:.3f} "
                        f"(spans {row['natural_dev']['given_span_accuracy']:.3f})"
                        + (f", wordnet dev {row['wordnet_dev']['accuracy']:.3f}" if dev else ""))
        for name in ("fast", "neural"):
            say(f"{name}: natural dev {natural_row(nat[name], natural_dev)['accuracy']:.3f}"
                + (f", wordnet dev {wordnet_row(wn[name], dev)['accuracy']:.3f}" if dev else ""))
        bem = dict(BEM_ONLY)
        set_weights(nat["fast+bem"], bem)
        say(f"bem alone: natural dev {natural_row(nat['fast+bem'], natural_dev)['given_span_accuracy']:.3f} (spans)")
        if dev:
            set_weights(wn["fast+bem"], bem)
            say(f"bem alone: wordnet dev {wordnet_row(wn['fast+bem'], dev)['accuracy']:.3f}")
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "sense-model-tuning.json").write_text(json.dumps({"dev_examples": len(dev), "grid": grid},
                                                                     indent=2), encoding="utf-8")
        return 0

    rows: dict = {}
    if not args.skip_heldout:
        say(f"held-out WordNet examples ({len(heldout)})")
        wn = linkers(texts)
        for name in ("fast+bem", "neural+bem"):
            set_weights(wn[name], joined)
        for name in ("fast", "neural", "bem-frozen", "fast+bem", "neural+bem"):
            rows.setdefault(name, {})["heldout"] = wordnet_row(wn[name], heldout)
            say(f"  {name}: {rows[name]['heldout']['accuracy']:.3f}")
        set_weights(wn["fast+bem"], BEM_ONLY)
        rows.setdefault("bem", {})["heldout"] = wordnet_row(wn["fast+bem"], heldout)
        rows.setdefault("prior", {})["heldout"] = {"accuracy": rows["fast"]["heldout"]["mfs"],
                                                   "pos_given": rows["fast"]["heldout"]["mfs_pos_given"]}
        say(f"  bem: {rows['bem']['heldout']['accuracy']:.3f}")
        del wn
    say(f"hand-written WordNet dev ({len(natural_dev)} sentences)")
    nat = linkers(None)
    nat["prior"] = EntityLinker.from_graph(kg, "fast", weights=PRIOR_ONLY)
    for name in ("fast+bem", "neural+bem"):
        set_weights(nat[name], joined)
    for name in ("prior", "fast", "neural", "bem-frozen", "fast+bem", "neural+bem"):
        rows.setdefault(name, {})["natural_dev"] = natural_row(nat[name], natural_dev)
        say(f"  {name}: {rows[name]['natural_dev']['accuracy']:.3f}")
    set_weights(nat["fast+bem"], BEM_ONLY)
    rows.setdefault("bem", {})["natural_dev"] = natural_row(nat["fast+bem"], natural_dev)
    report["rows"] = rows
    report["heldout_examples"] = len(heldout)
    if args.natural_test:
        set_weights(nat["neural+bem"], joined)
        test = [s for s in read_set("wordnet") if s.split == "test"]
        r = natural_row(nat["neural+bem"], test)
        report["natural_test"] = {"linker": "neural+bem", "weights": joined, "sentences": len(test), **r}
        say(f"hand-written WordNet TEST (scored once): {r['accuracy']:.3f}")
    args.out.mkdir(parents=True, exist_ok=True)
    old = args.out / "sense-model.json"
    if not args.natural_test and old.is_file():  # a test figure recorded earlier stays
        prev = json.loads(old.read_text(encoding="utf-8"))
        if "natural_test" in prev:
            report["natural_test"] = prev["natural_test"]
    (args.out / "sense-model.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
    (args.out / "sense-model.md").write_text(markdown(report), encoding="utf-8")
    print(markdown(report))
    return 0


def _f(x) -> str:
    return "–" if x is None else f"{x:.3f}"


NAMES = {"prior": "most frequent sense (prior)", "fast": "fast linker", "neural": "neural linker (frozen MiniLM cosine)",
         "bem-frozen": "bi-encoder, frozen MiniLM (untrained)", "bem": "bi-encoder, trained, alone",
         "fast+bem": "fast linker + trained bi-encoder", "neural+bem": "neural linker + trained bi-encoder"}


def markdown(report: dict) -> str:
    rows = report.get("rows", {})
    n = report.get("heldout_examples")
    lines = ["# Word-sense bi-encoder (BEM-style) beside the linker", "",
             f"Model `{report['model']}`; joined weights {json.dumps(report['weights'])}.", ""]
    t = report.get("training")
    if t:
        lines += [f"Training: `kgnlu train-senses` — {t['examples']} examples sampled from {t['available_examples']} "
                  f"(non-held-out synsets only; {t['heldout_synsets']} held-out synsets excluded as examples, "
                  f"glosses and candidates), {t['steps']} steps of {t['batch_size']}, lr {t['learning_rate']}, "
                  f"top {t['trainable_layers']} context / {t.get('gloss_trainable_layers', '?')} gloss layers "
                  f"trained, {t['seconds']:.0f} s on a shared 2-core CPU; loss {t['first_loss']} → {t['last_loss']}.", ""]
    lines += [f"| scorer | WordNet held-out ({n} examples) | same, POS given | hand-written dev | "
              "hand-written dev, gold spans |", "|---|---|---|---|---|"]
    for key, name in NAMES.items():
        r = rows.get(key)
        if not r:
            continue
        h, d = r.get("heldout", {}), r.get("natural_dev", {})
        lines.append(f"| {name} | {_f(h.get('accuracy'))} | {_f(h.get('pos_given'))} | {_f(d.get('accuracy'))} | "
                     f"{_f(d.get('given_span_accuracy'))} |")
    nt = report.get("natural_test")
    if nt:
        lines += ["", f"Hand-written WordNet **test** split, scored once with the final configuration "
                      f"({nt['linker']}, {json.dumps(nt['weights'])}): accuracy {_f(nt['accuracy'])}, "
                      f"gold spans {_f(nt['given_span_accuracy'])} ({nt['mentions']} target words)."]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
