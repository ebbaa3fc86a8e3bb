"""KGE side by side with PyKEEN 1.11.1: same data, model, dimension, negatives, batch, epochs, seed.

    python bench/kge.py [--quick] [--device cpu|cuda] [--datasets nations,kinships] [--models rotate] [--seeds 5]

For each data set (Nations, Kinships, UMLS from PyKEEN's files; the WordNet benchmark built from
WordNet 3.0, see docs/kge.md) and model, both libraries train from the same seed on the same
integer triples and are evaluated on the test split, filtered, realistic ranks, both sides.
Reported per case: training triples/s (positives; higher is better), evaluation seconds (lower),
filtered MRR and Hits@10 (higher). Runs alternate ours/peer per case so drift on a shared machine
hits both. ``--seeds N`` averages every figure over seeds 0..N-1: Nations' 201 test triples make
one seed's MRR vary by ±0.02 in both libraries, more than the differences worth reporting.
The last stdout line is the JSON record (bench/common.py).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import Result, emit, note  # noqa: E402

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


def run_ours(data: KGEData, model: str, s: dict, device: str) -> tuple[float, float, float, float]:
    loss = LOSSES[model][2]
    config = TrainConfig(model=ModelConfig(model, dim=s["dim"], p=1 if model == "transe" else 2),
                         sampling=SamplingConfig(num_negatives=s["negatives"], shared=True, chunk_size=32,
                                                 weighting="self_adversarial" if model == "rotate" else "uniform"),
                         loss=loss, epochs=s["epochs"], batch_size=s["batch_size"], lr=s["lr"], seed=s["seed"],
                         device=device)
    result = train(data, config)
    data._filters.clear()  # time the filter index too, as PyKEEN rebuilds its filter per call
    test = data.test if s["max_test"] is None else data.test[: s["max_test"]]
    sub = KGEData(data.train, data.valid, test, data.num_entities, data.num_relations)
    ev = evaluate(result.model, sub, "test", batch_size=256)
    return result.triples_per_second, ev.seconds, ev.mrr, ev.hits[10]


def run_peer(data: KGEData, model: str, s: dict, device: str) -> tuple[float, float, float, float]:
    import pykeen.losses
    import pykeen.models
    from pykeen.evaluation import RankBasedEvaluator
    from pykeen.training import SLCWATrainingLoop
    from pykeen.triples import CoreTriplesFactory

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
    start = time.perf_counter()
    loop.train(triples_factory=factory, num_epochs=s["epochs"], batch_size=s["batch_size"], use_tqdm=False,
               use_tqdm_batch=False)
    if device == "cuda":
        torch.cuda.synchronize()
    train_s = time.perf_counter() - start
    test = data.test if s["max_test"] is None else data.test[: s["max_test"]]
    start = time.perf_counter()
    ev = RankBasedEvaluator(filtered=True).evaluate(net, mapped_triples=test, batch_size=256, use_tqdm=False,
                                                    additional_filter_triples=[data.train, data.valid])
    eval_s = time.perf_counter() - start
    return (len(data.train) * s["epochs"] / train_s, eval_s,
            float(ev.get_metric("both.realistic.inverse_harmonic_mean_rank")),
            float(ev.get_metric("both.realistic.hits_at_10")))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small settings, under a minute")
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    parser.add_argument("--datasets", default=",".join(DATASETS))
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--seeds", type=int, default=1, help="average over seeds 0..N-1 (small sets are noisy)")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch intra-op threads for both libraries (0 = torch's default); 1 by default: "
                             "KGE batches are small and on a shared 2-core machine extra threads only spin")
    args = parser.parse_args(argv)
    os.environ.setdefault("KGNLU_PROGRESS", "0")
    if args.threads:
        torch.set_num_threads(args.threads)
    cache = Path(os.environ.get("KGNLU_HOME", Path.home() / ".cache" / "kgnlu")) / "bench" / "kge"
    cache.mkdir(parents=True, exist_ok=True)
    results: list[Result] = []
    models = args.models.split(",")
    if args.quick and args.models == ",".join(MODELS):
        models = ["transe", "rotate"]  # quick: the two model families (distance with L1 / complex rotation)
    with tempfile.TemporaryDirectory():
        for dataset in args.datasets.split(","):
            data = load_dataset(dataset, args.quick, cache)
            s = settings(dataset, args.quick)
            note(f"{dataset}: {data.num_entities} entities, {len(data.train)} train, {len(data.test)} test; {s}")
            for model in models:
                case = f"{dataset}/{model}"
                runs = [(run_ours(data, model, {**s, "seed": seed}, args.device),
                         run_peer(data, model, {**s, "seed": seed}, args.device)) for seed in range(args.seeds)]
                ours, peer = (tuple(sum(col) / len(runs) for col in zip(*side, strict=True))
                              for side in zip(*runs, strict=True))
                note(f"{case}: ours {ours}  peer {peer}")
                results += [Result(case, "train_triples_per_s", ours[0], peer[0], True),
                            Result(case, "eval_seconds", ours[1], peer[1], False),
                            Result(case, "mrr", ours[2], peer[2], True),
                            Result(case, "hits_at_10", ours[3], peer[3], True)]
    emit("kge", results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
