"""KGE side by side with PyKEEN 1.11.1: same data, model, dimension, negatives, batch, epochs, seed.

    python bench/kge.py [--quick] [--device cpu|cuda] [--datasets nations,kinships] [--models rotate]
                        [--repeats 3] [--threads 1]

For each data set (Nations, Kinships, UMLS from PyKEEN's files; the WordNet benchmark built from
WordNet 3.0, see docs/kge.md) and model, each repeat (seed = repeat number) trains, in turn:

* kgnlu with **per-positive** negatives (``SamplingConfig(shared=False)``, dense Adam) — the same
  work as PyKEEN's ``basic`` sampler: B·k independent corruptions per batch;
* PyKEEN's ``SLCWATrainingLoop``, built once (model, loop), then ``train()``;
* kgnlu as configured by default (negatives **shared** by chunks of 32 positives; lazy sparse
  Adam on graphs of ≥ 5,000 entities) — kgnlu's algorithmic saving, reported in its own row.

Timed region, the same on both sides: training epochs 2..E+1 of one ``train()`` call, read from
kgnlu's per-epoch trainer log and from a PyKEEN ``post_epoch`` callback; model/loop construction,
data loaders, the first (warm-up) epoch and evaluation are outside it. Both run with the same
torch threads (``--threads``, 1 by default). Rows (``kind``, bench/common.py):

* ``equal work``: train triples/s, per-positive negatives both sides;
* ``kgnlu saving``: kgnlu's shared negatives vs PyKEEN per positive, same timed region;
* ``as users run it``: wall time of the whole call, set-up and all E+1 epochs included (kgnlu
  ``train()`` with its default sampling; PyKEEN model + loop construction + ``train()``); and one
  filtered ``evaluate()`` call each (both build their filter inside it; PyKEEN's also computes its
  whole metric set);
* ``quality``: filtered MRR / Hits@10 on the test split (realistic ranks, both sides) of the
  per-positive runs — nothing here is tuned on it.

Ratios are over ``--repeats`` (≥ 3) interleaved repeats: median and best. The last stdout line is
the JSON record (bench/common.py), stored as reports/bench/kge[-quick].json.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import Result, emit, note, time_samples  # noqa: E402

from kgnlu.kge import KGEData, LossConfig, ModelConfig, SamplingConfig, TrainConfig, evaluate, train  # noqa: E402

DATASETS = ("nations", "kinships", "umls", "wordnet")
MODELS = ("transe", "distmult", "complex", "rotate")
# Per model: the loss both libraries use (PyKEEN's class, its kwargs; ours), and the norm.
LOSSES = {
    "transe": ("MarginRankingLoss", {"margin": 1.0}, LossConfig("margin", margin=1.0)),
    "distmult": ("SoftplusLoss", {}, LossConfig("softplus")),
    "complex": ("SoftplusLoss", {}, LossConfig("softplus")),
    "rotate": ("NSSALoss", {"margin": 9.0, "adversarial_temperature": 1.0}, LossConfig("nssa", margin=9.0)),
}


def load_dataset(name: str, quick: bool, cache: Path) -> KGEData:
    from kgnlu.kg import KnowledgeGraph
    from kgnlu.kg.build import build_graph

    if name == "wordnet":
        from kgnlu.kge.wordnet_benchmark import WordNetBenchmarkConfig, build_wordnet_benchmark

        path = cache / "wordnet"
        if not (path / "manifest.json").is_file():
            build_graph(["wordnet"], path, store=False, force=True)
        cfg = WordNetBenchmarkConfig(max_entities=3000) if quick else WordNetBenchmarkConfig(min_degree=3)
        return build_wordnet_benchmark(KnowledgeGraph.load(path, verify=False), cfg).data
    path = cache / name
    if not (path / "manifest.json").is_file():
        build_graph([f"pykeen:{name}"], path, store=False, force=True)
    return KGEData.from_graph(KnowledgeGraph.load(path, verify=False))


def settings(dataset: str, quick: bool) -> dict:
    big = dataset == "wordnet"
    # WordNet (full): 3 epochs and the first 1,000 test triples keep PyKEEN's side of the run to minutes
    return {"dim": 32 if quick else 64, "epochs": 3 if quick else (3 if big else 20),
            "batch_size": 512 if big and not quick else 256, "negatives": 32, "lr": 0.01, "seed": 0,
            "max_test": (300 if quick else 1000) if big else None}


PEER = "PyKEEN 1.11.1 SLCWATrainingLoop, basic sampler (per positive)"


@dataclass
class Run:
    rate: float  # positive triples/s over the timed epochs 2..E+1
    wall: float  # seconds of the whole call, set-up included
    eval_s: float
    mrr: float
    hits10: float


def sampling(model: str, s: dict, shared: bool) -> SamplingConfig:
    weighting = "self_adversarial" if model == "rotate" else "uniform"
    return SamplingConfig(num_negatives=s["negatives"], shared=shared, chunk_size=32, weighting=weighting)


def test_subset(data: KGEData, s: dict) -> KGEData:
    test = data.test if s["max_test"] is None else data.test[: s["max_test"]]
    return KGEData(data.train, data.valid, test, data.num_entities, data.num_relations)


def run_ours(data: KGEData, model: str, s: dict, device: str, shared: bool) -> Run:
    """kgnlu's ``train()`` for E+1 epochs; per-positive runs use dense Adam like PyKEEN."""
    config = TrainConfig(model=ModelConfig(model, dim=s["dim"], p=1 if model == "transe" else 2),
                         sampling=sampling(model, s, shared), loss=LOSSES[model][2], epochs=s["epochs"] + 1,
                         batch_size=s["batch_size"], lr=s["lr"], seed=s["seed"], device=device,
                         sparse=None if shared else False)
    start = time.perf_counter()
    result = train(data, config)
    wall = time.perf_counter() - start
    timed = sum(h["seconds"] for h in result.history[1:])  # the trainer logs once an epoch
    data._filters.clear()  # time the filter index too, as PyKEEN rebuilds its filter per call
    ev = evaluate(result.model, test_subset(data, s), "test", batch_size=256)
    return Run(len(data.train) * s["epochs"] / timed, wall, ev.seconds, ev.mrr, ev.hits[10])


def run_peer(data: KGEData, model: str, s: dict, device: str) -> Run:
    import pykeen.losses
    import pykeen.models
    from pykeen.evaluation import RankBasedEvaluator
    from pykeen.training import SLCWATrainingLoop
    from pykeen.training.callbacks import TrainingCallback
    from pykeen.triples import CoreTriplesFactory

    class EpochClock(TrainingCallback):
        """perf_counter at the end of every epoch (after PyKEEN's own per-epoch bookkeeping)."""

        def __init__(self) -> None:
            super().__init__()
            self.ends: list[float] = []

        def post_epoch(self, epoch: int, epoch_loss: float, **kwargs) -> None:
            if device == "cuda":
                torch.cuda.synchronize()
            self.ends.append(time.perf_counter())

    start = time.perf_counter()
    factory = CoreTriplesFactory.create(data.train, num_entities=data.num_entities,
                                        num_relations=data.num_relations)
    loss_name, loss_kwargs, _ = LOSSES[model]
    cls = {"transe": pykeen.models.TransE, "distmult": pykeen.models.DistMult,
           "complex": pykeen.models.ComplEx, "rotate": pykeen.models.RotatE}[model]
    extra = {"regularizer": None} if model in ("distmult", "complex") else {}
    if model == "transe":
        extra["scoring_fct_norm"] = 1
    net = cls(triples_factory=factory, embedding_dim=s["dim"], random_seed=s["seed"],
              loss=getattr(pykeen.losses, loss_name)(**loss_kwargs), **extra).to(device)
    loop = SLCWATrainingLoop(model=net, triples_factory=factory,
                             optimizer=torch.optim.Adam(net.get_grad_params(), lr=s["lr"]),
                             negative_sampler="basic", negative_sampler_kwargs={"num_negs_per_pos": s["negatives"]})
    clock = EpochClock()
    loop.train(triples_factory=factory, num_epochs=s["epochs"] + 1, batch_size=s["batch_size"], use_tqdm=False,
               use_tqdm_batch=False, callbacks=[clock])
    wall = time.perf_counter() - start
    timed = clock.ends[-1] - clock.ends[0]  # epochs 2..E+1
    start = time.perf_counter()
    ev = RankBasedEvaluator(filtered=True).evaluate(net, mapped_triples=test_subset(data, s).test, batch_size=256,
                                                    use_tqdm=False, additional_filter_triples=[data.train, data.valid])
    eval_s = time.perf_counter() - start
    return Run(len(data.train) * s["epochs"] / timed, wall, eval_s,
               float(ev.get_metric("both.realistic.inverse_harmonic_mean_rank")),
               float(ev.get_metric("both.realistic.hits_at_10")))


def case_results(case: str, n_train: int, s: dict, ours_pp: list[Run], peer: list[Run],
                 ours_shared: list[Run]) -> list[Result]:
    epochs = s["epochs"]
    users_metric = f"train_triples_per_s, whole call: set-up + {epochs + 1} epochs (kgnlu default sampling)"
    return [
        Result.from_samples(case, f"train_triples_per_s, epochs 2..{epochs + 1}, per-positive negatives both",
                            [r.rate for r in ours_pp], [r.rate for r in peer], peer_name=PEER),
        Result.from_samples(case, "train_triples_per_s, kgnlu shared negatives (its default) vs PyKEEN per positive",
                            [r.rate for r in ours_shared], [r.rate for r in peer], kind="kgnlu saving",
                            peer_name=PEER),
        Result.from_samples(case, users_metric, [n_train * (epochs + 1) / r.wall for r in ours_shared],
                            [n_train * (epochs + 1) / r.wall for r in peer], kind="as users run it", peer_name=PEER),
        # one evaluate() call each, filter built inside it on both sides; PyKEEN's call also computes
        # its full metric set (adjusted ranks, ...), so this is the call as users make it, not equal work
        Result.from_samples(case, "eval_seconds, one filtered evaluate() call on the test split",
                            [r.eval_s for r in ours_pp], [r.eval_s for r in peer], higher_is_better=False,
                            kind="as users run it", peer_name="PyKEEN RankBasedEvaluator.evaluate"),
        Result.from_samples(case, f"test_mrr after {epochs + 1} epochs, per-positive negatives",
                            [r.mrr for r in ours_pp], [r.mrr for r in peer], kind="quality", peer_name=PEER),
        Result.from_samples(case, f"test_hits_at_10 after {epochs + 1} epochs, per-positive negatives",
                            [r.hits10 for r in ours_pp], [r.hits10 for r in peer], kind="quality", peer_name=PEER),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small settings, under a minute")
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    parser.add_argument("--datasets", default=",".join(DATASETS))
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--repeats", type=int, default=3, help="interleaved repeats (seed = repeat number), ≥ 3")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch intra-op threads for both libraries (0 = torch's default); 1 by default: "
                             "KGE batches are small and on a shared 2-core machine extra threads only spin")
    args = parser.parse_args(argv)
    if args.repeats < 3:
        parser.error("--repeats must be ≥ 3: ratios are reported as median and best of the repeats")
    os.environ.setdefault("KGNLU_PROGRESS", "0")
    if args.threads:
        torch.set_num_threads(args.threads)
    cache = Path(os.environ.get("KGNLU_HOME", Path.home() / ".cache" / "kgnlu")) / "bench" / "kge"
    cache.mkdir(parents=True, exist_ok=True)
    results: list[Result] = []
    models = args.models.split(",")
    if args.quick and args.models == ",".join(MODELS):
        models = ["transe", "rotate"]  # quick: the two model families (distance with L1 / complex rotation)
    import pykeen.training  # noqa: F401  (imported before the heap is frozen, as kgnlu is)

    gc_unfrozen = time_samples(gc.collect, repeat=3, warmup=0)
    for dataset in args.datasets.split(","):
        data = load_dataset(dataset, args.quick, cache)
        s = settings(dataset, args.quick)
        # PyKEEN calls gc.collect() after every epoch. In an unfrozen process that call scans every
        # object torch, PyKEEN and kgnlu have made (see the note in the report): time that is not
        # training work and grows with whatever else the process holds. Frozen, it scans only
        # what the epochs create — the same for both libraries.
        gc.collect()
        gc.freeze()
        note(f"{dataset}: {data.num_entities} entities, {len(data.train)} train, {len(data.test)} test; {s}")
        for model in models:
            case = f"{dataset}/{model}"
            ours_pp, peer, ours_shared = [], [], []
            for seed in range(args.repeats):
                seeded = {**s, "seed": seed}
                ours_pp.append(run_ours(data, model, seeded, args.device, shared=False))
                peer.append(run_peer(data, model, seeded, args.device))
                ours_shared.append(run_ours(data, model, seeded, args.device, shared=True))
                note(f"{case} seed {seed}: per-positive {ours_pp[-1]}\n  peer {peer[-1]}\n  shared {ours_shared[-1]}")
            results += case_results(case, len(data.train), s, ours_pp, peer, ours_shared)
    emit("kge", results, packages=("pykeen",),
         notes=[f"torch threads {torch.get_num_threads()} for both libraries", f"device {args.device}",
                "timed region: training epochs 2..E+1 of one train() call (construction, data loaders, "
                "the warm-up epoch and evaluation excluded) on both sides",
                "the heap is frozen (gc.freeze) after imports and data loading: PyKEEN's per-epoch gc.collect() "
                f"then scans only new objects; unfrozen, one gc.collect() here took "
                f"{min(gc_unfrozen):.3f}-{max(gc_unfrozen):.3f} s (3 calls at start)"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
