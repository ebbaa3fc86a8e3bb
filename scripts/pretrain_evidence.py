"""Issue 5's evidence: small pretraining runs on this CPU, then every comparison, as JSON + PNG.

    python scripts/pretrain_evidence.py                       # everything (reuses finished runs)
    python scripts/pretrain_evidence.py --stage pretrain --only bert-mini,bert-mini-sop
    python scripts/pretrain_evidence.py --stage eval --only albert-mini-all   # evaluate + cache some runs
  python scripts/pretrain_evidence.py --stage report        # evaluate finished runs, write the report
    python scripts/pretrain_evidence.py --quick --runs /tmp/r --out /tmp/rep   # smoke run, < 1 min

Runs (fixed step budgets, not time budgets, so CPU noise cannot bias a comparison):
  electra-small vs bert-mini (MLM+NSP) at equal training FLOPs (kgnlu.eval.compute), then supersense;
  bert-mini-docs-nsp (MLM+NSP) and bert-mini-docs-sop (MLM+SOP) on kernel docs: same shape, NSP vs
    SOP on held-out pairs, each head also scored on the other task (ALBERT Table 5's check);
  albert-mini-{none,ffn,attention,all}: parameters vs supersense accuracy (ALBERT Table 4's shape);
  gpt2-mini: held-out perplexity on kernel docs, zero/one/few-shot country → capital.
The first four are the "core" runs (``--core-steps``, ``--core-lr``); the ALBERT sweep and GPT-2
use ``--steps`` and ``--lr``. Runs pretrain on WordNet glosses and examples, except the docs runs
and GPT-2, which read the Linux kernel documentation: its documents are coherent prose, so a
swapped or foreign segment can be told from context, while a WordNet "document" is a run of
unrelated glosses whose order carries little. Both corpora are split by document
(kgnlu.eval.heldout): 5% of the documents are never trained on.

Outputs: ``--out``/summary.json and PNGs; runs under ``--runs`` (one folder each, reused when its
summary.json shows the planned steps).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402

from kgnlu.data.corpora import open_corpus  # noqa: E402
from kgnlu.eval.compute import equal_compute_steps, flops_per_token  # noqa: E402
from kgnlu.eval.heldout import write_document_split  # noqa: E402
from kgnlu.eval.supersense import FinetuneConfig, SupersenseProbeConfig  # noqa: E402
from kgnlu.pretrain.config import (  # noqa: E402,E501
    PretrainConfig,
    TokenizerSpec,
    build_encoder_config,
    build_tokenizer,
)
from kgnlu.pretrain.run import run_pretraining  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
ALBERT_MODES = ("none", "ffn", "attention", "all")


@dataclass
class Budget:
    """The fixed budget of every run; ``--quick`` shrinks it to a smoke run."""

    steps: int = 100  # optimizer steps of the ALBERT sweep and GPT-2
    core_steps: int | None = None  # steps of ELECTRA and the docs runs (None = steps); BERT gets ELECTRA's FLOPs
    batch_size: int = 16  # small batches: at a tiny token budget more updates learn more per token
    max_length: int = 64  # WordNet synsets are ~15 tokens; 64 holds 3–4 of them or a kernel-doc paragraph
    lr: float = 1e-3  # short runs of small models tolerate (and need) a high peak rate
    core_lr: float | None = None  # the core runs' peak rate (None = lr): the evidence uses ELECTRA-Small's
    # published 5e-4 (at 1e-3 and 600 steps ELECTRA's gloss vectors had collapsed to mean cosine 0.999)
    electra_lr: float | None = None  # ELECTRA's own peak rate (None = core_lr): at 5e-4 with a 10% warmup
    # its discriminator collapsed to the base rate within ~100 steps (gloss mean cosine 0.98); ELECTRA-Small's
    # 5e-4 comes with 10,000 warmup steps and 8x our batch. At 1e-4 its loss stays below the base rate
    num_layers: int = 4  # ALBERT and ELECTRA configs have 6 layers; 4 matches bert-mini and fits the budget
    heldout: float = 0.05  # share of documents never trained on (NSP/SOP pairs, perplexity)
    document_limit: int | None = None  # first N documents of each corpus (quick runs)
    model: dict[str, Any] = field(default_factory=dict)  # extra model overrides (quick runs)
    tokenizer_vocab: int = 8192
    supersense_limit: int | None = None  # synsets read for the supersense splits (None = all 117k)
    finetune_train: int = 4000  # the fine-tuning recipe's subsample (kgnlu.eval.supersense.FinetuneConfig)
    finetune_test: int = 2000

    def quick(self) -> Budget:
        return Budget(steps=3, core_steps=3, batch_size=4, max_length=32, lr=1e-3, num_layers=2, heldout=0.25, document_limit=24,
                      model={"hidden_size": 32, "num_heads": 2, "ffn_size": 64}, tokenizer_vocab=300,
                      supersense_limit=None, finetune_train=24, finetune_test=8)

    def probe(self) -> SupersenseProbeConfig:
        return SupersenseProbeConfig(train_examples=self.finetune_train, test_examples=self.finetune_test,
                           max_length=16 if self.finetune_train < 100 else 64)

    def finetune(self) -> FinetuneConfig:
        quick = self.finetune_train < 100
        return FinetuneConfig(train_examples=self.finetune_train, test_examples=self.finetune_test,
                              batch_size=8 if quick else 32, max_length=16 if quick else 64)


@dataclass
class RunSpec:
    name: str
    config: str  # a file under configs/
    corpus: str  # "wordnet" or "linux_doc"
    steps: int = 0  # filled in by plan()
    overrides: list[str] = field(default_factory=list)
    core: bool = False  # a core run: core_steps and core_lr
    lr_field: str | None = None  # a Budget field holding this run's own peak rate (used when set)
    tokenizer: str = "wordpiece"  # or "byte_bpe" (GPT-2)


def plan(budget: Budget) -> list[RunSpec]:
    """The runs, with BERT's steps set to spend ELECTRA's training FLOPs."""
    core = budget.core_steps or budget.steps
    runs = [RunSpec("electra-small", "electra-small.yaml", "wordnet", core, [f"model.num_layers={budget.num_layers}"],
                    core=True, lr_field="electra_lr"),
            RunSpec("bert-mini", "bert-mini.yaml", "wordnet", core, core=True),  # steps reset below
            RunSpec("bert-mini-docs-nsp", "bert-mini.yaml", "linux_doc", core, core=True),
            RunSpec("bert-mini-docs-sop", "bert-mini-sop.yaml", "linux_doc", core, core=True),
            *[RunSpec(f"albert-mini-{mode}", f"albert-mini-{mode}.yaml", "wordnet", budget.steps,
                      [f"model.num_layers={budget.num_layers}"]) for mode in ALBERT_MODES],
            RunSpec("gpt2-mini", "gpt2-mini.yaml", "linux_doc", budget.steps, tokenizer="byte_bpe")]
    electra, bert = runs[0], runs[1]
    electra_flops = run_flops_per_token(electra, budget)
    bert.steps = equal_compute_steps(electra.steps, electra_flops, run_flops_per_token(bert, budget))
    return runs


def pretrain_config(spec: RunSpec, budget: Budget, data_root: Path, runs_root: Path) -> PretrainConfig:
    model = [f"model.{k}={v}" for k, v in budget.model.items()]
    overrides = [
        f"out_dir={runs_root / spec.name}", "data.corpus=text",
        f"+data.corpus_options.paths={data_root / spec.corpus / 'train.jsonl'}",
        f"data.batch_size={budget.batch_size}", f"data.instances.max_length={budget.max_length}",
        "data.instances.shuffle_buffer=1000", f"tokenizer.vocab_size={budget.tokenizer_vocab}",
        f"trainer.max_steps={spec.steps}", f"trainer.lr={run_lr(spec, budget)}",
        f"trainer.warmup_steps={max(1, spec.steps // 10)}", f"trainer.log_every={max(1, min(5, spec.steps // 20))}",
        "trainer.checkpoint_every=0", "trainer.tensorboard=false", *spec.overrides, *model]
    if budget.model.get("hidden_size"):
        overrides.append(f"model.max_positions={max(budget.max_length, 32)}")
    return PretrainConfig.load(ROOT / "configs" / spec.config, overrides)


def run_lr(spec: RunSpec, budget: Budget) -> float:
    own = getattr(budget, spec.lr_field) if spec.lr_field else None
    if own:
        return own
    return (budget.core_lr or budget.lr) if spec.core else budget.lr


def run_flops_per_token(spec: RunSpec, budget: Budget) -> float:
    config = pretrain_config(spec, budget, Path("unused"), Path("unused"))
    vocab = _VocabSize(budget.tokenizer_vocab)
    encoder_config = build_encoder_config(config.model, vocab, config.data.instances.max_length)
    return flops_per_token(encoder_config, config.objectives, config.data.instances.masking.rate,
                           config.objective_options)


class _VocabSize:
    """What build_encoder_config reads from a tokenizer, before one is trained (for FLOP planning)."""

    def __init__(self, vocab_size: int):
        self.vocab_size, self.pad_id = vocab_size, 0


# ---------------------------------------------------------------------- stages
def prepare_data(budget: Budget, data_root: Path, wordnet_dir: Path, linux_doc_dir: Path) -> dict[str, Any]:
    """Seeded document splits of both corpora, and the tokenizers the runs use, each trained on its
    corpus's train split (WordPiece for both, byte-level BPE for the kernel docs' GPT-2)."""
    corpora = {"wordnet": open_corpus("wordnet", directory=wordnet_dir),
               "linux_doc": open_corpus("linux_doc", directory=linux_doc_dir)}
    kinds = {"wordnet": ("wordpiece",), "linux_doc": ("wordpiece", "byte_bpe")}
    out = {}
    for name, corpus in corpora.items():
        split = write_document_split(corpus, data_root / name, budget.heldout, seed=0, limit=budget.document_limit)
        for kind in kinds[name]:
            spec = TokenizerSpec(kind=kind, vocab_size=budget.tokenizer_vocab, min_frequency=2)
            build_tokenizer(spec, open_corpus("text", paths=[split.train]), data_root / name / f"tokenizer-{kind}")
        out[name] = {"train_documents": split.train_documents, "heldout_documents": split.heldout_documents}
    return out


def pretrain(spec: RunSpec, budget: Budget, data_root: Path, runs_root: Path) -> dict[str, Any]:
    run_dir = runs_root / spec.name
    summary_path = run_dir / "summary.json"
    if summary_path.is_file():
        summary = json.loads(summary_path.read_text(encoding="utf-8"))
        saved = PretrainConfig.load(run_dir / "pretrain_config.yaml")
        planned = pretrain_config(spec, budget, data_root, runs_root)
        # the instances too: a run trained with another masking or generator input is not this plan's run
        if (summary.get("steps") == spec.steps and saved.trainer.lr == run_lr(spec, budget)
                and saved.data.instances == planned.data.instances):
            return summary
        shutil.rmtree(run_dir)  # a different plan: start over
    run_dir.mkdir(parents=True, exist_ok=True)
    shared = data_root / spec.corpus / f"tokenizer-{spec.tokenizer}"
    if not (run_dir / "tokenizer").exists():  # one tokenizer per corpus: runs differ only in the model
        shutil.copytree(shared, run_dir / "tokenizer")
    print(f"[pretrain] {spec.name}: {spec.steps} steps", flush=True)
    return run_pretraining(pretrain_config(spec, budget, data_root, runs_root))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument("--quick", action="store_true", help="tiny data, models and steps: a smoke run under a minute")
    parser.add_argument("--stage", choices=("data", "pretrain", "eval", "report", "all"), default="all")
    parser.add_argument("--only", default="", help="comma-separated run names (pretrain stage)")
    parser.add_argument("--runs", type=Path, default=ROOT / "runs" / "evidence", help="run folders")
    parser.add_argument("--out", type=Path, default=ROOT / "reports" / "pretraining", help="report folder")
    parser.add_argument("--wordnet-dir", type=Path, default=Path("/usr/share/wordnet"))
    parser.add_argument("--linux-doc-dir", type=Path, default=Path("/usr/share/doc/linux-doc-6.1/Documentation"))
    parser.add_argument("--evaluations", default="probe,pairs,gpt2,finetune,spread,mlm",
                        help="evaluations to run where not cached (others are reported only if cached)")
    parser.add_argument("--steps", type=int, default=None, help="steps of the ALBERT sweep and GPT-2")
    parser.add_argument("--core-steps", type=int, default=None, help="steps of ELECTRA and the docs runs "
                        "(BERT gets ELECTRA's FLOPs; default: --steps)")
    parser.add_argument("--lr", type=float, default=None, help="peak learning rate of the sweep and GPT-2")
    parser.add_argument("--core-lr", type=float, default=None, help="peak learning rate of the core runs")
    parser.add_argument("--electra-lr", type=float, default=None, help="ELECTRA's peak learning rate "
                        "(default: --core-lr)")
    parser.add_argument("--threads", type=int, default=2, help="torch threads (the machine is shared)")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    os.environ.setdefault("KGNLU_PROGRESS", "0")
    budget = Budget().quick() if args.quick else Budget()
    for name in ("steps", "core_steps", "lr", "core_lr", "electra_lr"):
        if getattr(args, name) is not None:
            setattr(budget, name, getattr(args, name))
    data_root = args.runs / "_data"
    runs = plan(budget)
    if args.only:
        wanted = set(args.only.split(","))
        unknown = wanted - {r.name for r in runs}
        if unknown:
            parser.error(f"unknown runs {sorted(unknown)}; known: {', '.join(r.name for r in runs)}")
        runs = [r for r in runs if r.name in wanted]
    started = time.perf_counter()
    data = prepare_data(budget, data_root, args.wordnet_dir, args.linux_doc_dir)
    if args.stage == "data":
        print(json.dumps({"data": data, "runs": [asdict(r) for r in runs]}))
        return 0
    if args.stage in ("pretrain", "all"):
        for spec in runs:
            pretrain(spec, budget, data_root, args.runs)
    if args.stage in ("eval", "report", "all"):
        from kgnlu.eval.pretrain_report import evaluate_runs, write_report
        from kgnlu.eval.supersense import supersense_splits

        splits = supersense_splits(args.wordnet_dir, seed=0, limit=budget.supersense_limit)
        recipe, probe = budget.finetune(), budget.probe()
        compute = args.evaluations.split(",")
        if args.stage == "eval":  # evaluate (and cache) some runs, e.g. in a second process
            evaluate_runs([r.name for r in runs], args.runs, data_root, splits, recipe, probe, args.quick, compute)
        else:
            report = write_report(plan(budget), budget, data, data_root, args.runs, args.out, args.quick, splits,
                                  recipe, probe, compute)
            print(json.dumps(report["comparisons"], indent=2))
    print(json.dumps({"stage": args.stage, "seconds": round(time.perf_counter() - started, 1)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
