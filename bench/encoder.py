"""Encoder benchmark: kgnlu's Encoder vs Hugging Face transformers, side by side in one process.

Equal-work rows come first; rows where kgnlu does less work are labelled as its saving.
Ratio > 1 = ours better. Every side runs in the same process, same threads, alternated round by
round (warm-up excluded); medians and the best round of each side are stored.

  train/...                 one pretraining step (forward + backward + AdamW, same
                            hyper-parameters), MLM at 15% + NSP, same batch. tokens/s.
    equal work              ours: Encoder + MLM head on the masked rows + NSP head;
                            HF: ``BertModel`` (sdpa) + HF's own ``BertPreTrainingHeads`` modules,
                            the MLM prediction head applied to the same masked rows only.
    kgnlu saving            HF: stock ``BertForPreTraining`` as users run it, which decodes all
                            B·S positions (kgnlu's head decodes the ~15% masked ones).
  infer/...                 all-MiniLM-L6-v2 on WordNet glosses, batches of 32; sentences/s; the
                            outputs are asserted equal (max |Δ| < 1e-5 over real tokens, CPU).
    equal work              both on the same padded batches (ours with padding_free=False),
                            in corpus order and length-sorted.
    kgnlu saving            ours padding-free (per-token ops skip pad positions).

On CUDA the training shape is BERT-base, batch 256, length 128, bf16 autocast on both sides,
with MFU rows (the same FLOP count credited to both) and the issue's 50% MFU goal.

    python bench/encoder.py --quick              # CPU, a few minutes on 2 loaded cores
    python bench/encoder.py --threads 1          # pin both sides to 1 thread (robust on a loaded box)
    python bench/encoder.py --compile            # torch.compile both sides (compile time reported)
    python bench/encoder.py --device cuda [--compile]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
import transformers  # noqa: E402

from bench.common import Result, emit, note, time_samples  # noqa: E402
from kgnlu.encoders import HEADS, Encoder, EncoderConfig  # noqa: E402
from kgnlu.encoders.speed import adamw, autocast, maybe_compile  # noqa: E402

#: dense bf16 peak TFLOP/s by GPU name (datasheet, without sparsity); --peak-tflops overrides.
PEAK_BF16_TFLOPS = {"H200": 989.0, "H100": 989.0, "A100": 312.0, "L40S": 362.0, "L4": 121.0, "A10": 125.0,
                    "RTX 4090": 165.0, "V100": 125.0}
MFU_GOAL = 0.5
WORDNET_NOUNS = Path("/usr/share/wordnet/data.noun")
IGNORE = -100
NOTES: list[str] = []


def say(message: str) -> None:
    """A side figure: to stderr now, and into the stored report's notes."""
    NOTES.append(message)
    note(message)


def rounds(fns: dict[str, Callable[[], None]], count: int, warmup: int,
           sync: Callable[[], None] | None) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """Wall seconds and process CPU seconds of each of ``count`` rounds per function, the functions
    alternated within every round (after ``warmup`` untimed rounds) so drift hits all of them.

    CPU seconds (all threads of this process) are the steadier measure on a machine shared with
    other jobs: time spent descheduled does not count, so they track the work done.
    """
    for _ in range(warmup):
        for fn in fns.values():
            fn()
    wall: dict[str, list[float]] = {name: [] for name in fns}
    cpu: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(count):
        for name, fn in fns.items():
            start = time.process_time()
            wall[name] += time_samples(fn, repeat=1, warmup=0, sync=sync)
            cpu[name].append(time.process_time() - start)
    return wall, cpu


def summary(seconds: list[float]) -> str:
    return f"min {min(seconds) * 1e3:.1f} ms, median {statistics.median(seconds) * 1e3:.1f} ms"


# ---------------------------------------------------------------------- training step
def mlm_batch(batch: int, seq: int, vocab: int, device: torch.device, seed: int = 0):
    """Random ids, 15% masked positions (labels elsewhere -100), NSP labels: the same for both models."""
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(1000, vocab, (batch, seq), generator=g)
    masked = torch.rand(batch, seq, generator=g) < 0.15
    labels = torch.where(masked, ids, torch.full_like(ids, IGNORE))
    ids = ids.masked_fill(masked, 103)
    types = (torch.arange(seq) >= seq // 2).long().expand(batch, seq).contiguous()
    nsp = torch.randint(0, 2, (batch,), generator=g)
    return [t.to(device) for t in (ids, types, labels, nsp)]


def hf_bert_config(config: EncoderConfig) -> transformers.BertConfig:
    """The HF twin of ``config``: same widths, dropouts, norm epsilon, activation, sdpa attention."""
    return transformers.BertConfig(
        vocab_size=config.vocab_size, hidden_size=config.hidden_size, num_hidden_layers=config.num_layers,
        num_attention_heads=config.num_heads, intermediate_size=config.ffn_size,
        max_position_embeddings=config.max_positions, type_vocab_size=config.type_vocab_size,
        hidden_dropout_prob=config.hidden_dropout, attention_probs_dropout_prob=config.attention_dropout,
        layer_norm_eps=config.layer_norm_eps, hidden_act="gelu", attn_implementation="sdpa")


def copy_hf_weights(hf_model: transformers.BertForPreTraining, encoder: Encoder, mlm: torch.nn.Module,
                    nsp_head: torch.nn.Module, config: EncoderConfig) -> None:
    """Give ours HF's initial weights (encoder through kgnlu's BERT converter, heads by hand), so
    every side starts from the same parameters and the losses can be checked equal."""
    from kgnlu.encoders.hf import HF_FAMILIES

    state = {k: v.detach() for k, v in hf_model.state_dict().items()}
    encoder.load_state_dict(HF_FAMILIES.get("bert")().state_from_hf(state, config))
    predictions = hf_model.cls.predictions
    with torch.no_grad():
        for mine, theirs in ((mlm.transform.dense, predictions.transform.dense),
                             (mlm.transform.norm, predictions.transform.LayerNorm),
                             (nsp_head.classifier, hf_model.cls.seq_relationship)):
            mine.weight.copy_(theirs.weight)
            mine.bias.copy_(theirs.bias)
        mlm.decoder.bias.copy_(predictions.bias)


def train_step_fns(config: EncoderConfig, batch: int, seq: int, device: torch.device, compile_: bool,
                   bf16: bool) -> dict[str, Callable[[], None]]:
    """Three step functions on one batch: ours, HF on equal work, stock HF ``BertForPreTraining``.

    All three start from the same weights; with dropout off their losses are asserted equal
    before timing (the proof that the equal-work peer computes our objective). Each owns its
    AdamW (lr 1e-4, same betas/eps/decay, fused where the build has it).
    """
    ids, types, labels, nsp = mlm_batch(batch, seq, config.vocab_size, device)
    hf_config = hf_bert_config(config)
    torch.manual_seed(0)
    equal_model = transformers.BertForPreTraining(hf_config).to(device)
    assert equal_model.config._attn_implementation == "sdpa"
    stock_model = transformers.BertForPreTraining(hf_config).to(device)
    stock_model.load_state_dict(equal_model.state_dict())
    encoder = Encoder(config).to(device)
    mlm, nsp_head = HEADS.get("mlm")(config, encoder).to(device), HEADS.get("nsp")(config, encoder).to(device)
    copy_hf_weights(equal_model, encoder, mlm, nsp_head, config)
    ours_model = torch.nn.ModuleDict({"encoder": encoder, "mlm": mlm, "nsp": nsp_head})

    def ours_loss(run=encoder) -> torch.Tensor:
        out = run(input_ids=ids, token_type_ids=types)
        return mlm(out, labels).loss + nsp_head(out, nsp).loss  # the MLM head gathers the masked rows

    def hf_equal_loss(run=equal_model.bert) -> torch.Tensor:
        heads = equal_model.cls  # HF's BertPreTrainingHeads
        out = run(input_ids=ids, token_type_ids=types)
        flat = labels.reshape(-1)
        keep = flat != IGNORE  # gather the masked positions before the decoder, as ours does
        rows = out.last_hidden_state.reshape(-1, hf_config.hidden_size)[keep]  # (M, H)
        scores = heads.predictions(rows)  # HF's transform + tied decoder: (M, V)
        nsp_scores = heads.seq_relationship(out.pooler_output)  # (B, 2)
        return F.cross_entropy(scores.float(), flat[keep]) + F.cross_entropy(nsp_scores.float(), nsp)

    def hf_stock_loss() -> torch.Tensor:  # decodes all B·S positions, then ignores the unmasked ones
        return stock_model(input_ids=ids, token_type_ids=types, labels=labels, next_sentence_label=nsp).loss

    models = (ours_model, equal_model, stock_model)
    with torch.no_grad():
        for model in models:
            model.eval()
        with autocast(device, bf16):
            losses = [float(fn()) for fn in (ours_loss, hf_equal_loss, hf_stock_loss)]
    tolerance = 2e-2 if bf16 else 1e-4
    assert max(losses) - min(losses) <= tolerance * max(losses), f"the three sides' losses differ: {losses}"
    say(f"same weights, dropout off: loss ours {losses[0]:.6f}, HF equal work {losses[1]:.6f}, "
        f"HF stock {losses[2]:.6f}")
    for model in models:
        model.train()

    run_encoder = maybe_compile(encoder, compile_)
    run_bert = maybe_compile(equal_model.bert, compile_)
    if compile_:
        stock_model.bert = maybe_compile(stock_model.bert, True)

    def stepper(loss_fn: Callable[[], torch.Tensor], model: torch.nn.Module) -> Callable[[], None]:
        optimizer, _ = adamw(model.parameters(), lr=1e-4)

        def step() -> None:
            with autocast(device, bf16):
                loss = loss_fn()
            loss.backward()
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
        return step

    fused = adamw([torch.nn.Parameter(torch.zeros(1, device=device))], lr=1e-4)[1]
    say(f"AdamW fused={fused} (all sides); dropout {config.hidden_dropout}/{config.attention_dropout} all sides")
    return {"ours": stepper(lambda: ours_loss(run_encoder), ours_model),
            "hf_equal": stepper(lambda: hf_equal_loss(run_bert), equal_model),
            "hf_stock": stepper(hf_stock_loss, stock_model)}


def training_flops_per_token(config: EncoderConfig, seq: int, mask_rate: float = 0.15) -> float:
    """Model FLOPs per token of one training step (forward + backward = 3 × forward, 2 FLOPs per MAC).

    Counted once, the same for both sides: the layers' matmuls, attention scores and mixing, and
    the MLM head at the masked positions only (the work the objective needs).
    """
    H, L, F_, V, E = config.hidden_size, config.num_layers, config.ffn_size, config.vocab_size, config.embedding_size
    per_token_macs = L * (4 * H * H + 2 * H * F_) + L * 2 * seq * H  # projections + FFN; QKᵀ and PV
    per_token_macs += mask_rate * (H * E + E * V)  # MLM transform + decoder at masked rows
    return 3 * 2 * per_token_macs


def peak_tflops(args) -> float | None:
    if args.peak_tflops:
        return args.peak_tflops
    if args.device != "cuda":
        return None
    name = torch.cuda.get_device_name()
    for key, value in PEAK_BF16_TFLOPS.items():
        if key in name:
            return value
    say(f"unknown GPU {name!r}: pass --peak-tflops for MFU")
    return None


def training_shapes(args, device: torch.device) -> list[tuple[str, EncoderConfig, int, int, int]]:
    """(label, config, batch, seq, rounds) per case: BERT-base on CUDA; two small shapes on CPU."""
    if device.type == "cuda":
        batch, steps = (64, 5) if args.quick else (256, 10)
        return [("bert-base", EncoderConfig.bert(), batch, 128, steps)]
    steps = 5 if args.quick else 8
    return [("small-h256-l4", EncoderConfig.bert(hidden_size=256, num_layers=4, num_heads=4, ffn_size=1024), 8, 128,
             steps),
            ("mini-h512-l4", EncoderConfig.bert(hidden_size=512, num_layers=4, num_heads=8, ffn_size=2048), 8, 128,
             steps)]


def bench_training(args, device: torch.device) -> list[Result]:
    results = []
    sync = torch.cuda.synchronize if device.type == "cuda" else None
    bf16 = device.type == "cuda"
    hf = f"transformers {transformers.__version__}"
    for label, config, batch, seq, steps in training_shapes(args, device):
        case = "train/{}-b{}-s{}-{}{}".format(label, batch, seq, "bf16" if bf16 else "cpu",
                                               "-compile" if args.compile else "")
        fns = train_step_fns(config, batch, seq, device, args.compile, bf16)
        if args.compile:  # compilation happens on the first calls: timed here, outside the rounds
            for name, fn in fns.items():
                start = time.perf_counter()
                fn()
                fn()
                say(f"{case}: {name} compile + first 2 steps {time.perf_counter() - start:.1f} s (not in the timings)")
        times, cpu = rounds(fns, steps, warmup=2, sync=sync)
        tokens = batch * seq
        for name in fns:
            say(f"{case}: {name} wall {summary(times[name])}; CPU {summary(cpu[name])} per step")
        equal = f"{hf} BertModel(sdpa) + BertPreTrainingHeads, MLM head on the masked rows only"
        stock = f"{hf} stock BertForPreTraining(sdpa) as users run it: decodes all {seq} positions"
        results.append(Result.from_seconds(case, "tokens_per_s", tokens, times["ours"], times["hf_equal"],
                                           kind="equal work", peer_name=equal))
        if device.type == "cpu":
            results.append(Result.from_seconds(case, "tokens_per_cpu_s", tokens, cpu["ours"], cpu["hf_equal"],
                                               kind="equal work", peer_name=equal + " (process CPU time)"))
        results.append(Result.from_seconds(case + "-vs-stock-all-positions", "tokens_per_s", tokens, times["ours"],
                                           times["hf_stock"], kind="kgnlu saving", peer_name=stock))
        peak = peak_tflops(args)
        if peak:
            flops = training_flops_per_token(config, seq) * tokens
            mfu = Result.from_samples(case, "mfu", [flops / s / (peak * 1e12) for s in times["ours"]],
                                      [flops / s / (peak * 1e12) for s in times["hf_equal"]],
                                      kind="equal work", peer_name="HF equal work, same FLOPs credited")
            results.append(mfu)
            results.append(Result(case, "mfu_vs_goal", mfu.ours, MFU_GOAL, kind="goal",
                                  peer_name=f"the issue's {MFU_GOAL:.0%} MFU goal at {peak} TFLOP/s bf16 peak"))
            say(f"{case}: MFU at {peak} TFLOP/s peak: ours {mfu.ours:.1%}, HF equal work {mfu.peer:.1%}")
        del fns
    return results


def gemm_notes(repeats: int = 15) -> None:
    """Why kgnlu's CPU linears go through oneDNN: the best CPU time of F.linear (MKL sgemm) and of
    kgnlu.encoders.matmul.linear (oneDNN) on the step's shapes, forward only, in the notes."""
    from kgnlu.encoders.matmul import linear, use_onednn

    for label, (rows, inner, out) in {"mlm-decoder": (154, 256, 30522), "ffn-up": (1024, 256, 1024),
                                      "qkv": (1024, 256, 768)}.items():
        x, w, b = torch.randn(rows, inner), torch.randn(out, inner), torch.zeros(out)
        if not use_onednn(x, w):
            say("gemm: oneDNN is not available in this torch build; linears use F.linear")
            return
        best = {"MKL F.linear": float("inf"), "oneDNN linear": float("inf")}
        with torch.no_grad():
            for _ in range(repeats):
                for name, fn in (("MKL F.linear", F.linear), ("oneDNN linear", linear)):
                    start = time.process_time()
                    fn(x, w, b)
                    best[name] = min(best[name], time.process_time() - start)
        say(f"gemm {label} ({rows}x{inner})·({out}x{inner})ᵀ best CPU time: "
            + ", ".join(f"{name} {t * 1e3:.2f} ms" for name, t in best.items()))


# ---------------------------------------------------------------------- inference
def real_sentences(count: int, seed: int = 0) -> list[str]:
    """WordNet noun glosses (text after ' | '), shuffled so every batch mixes lengths."""
    if not WORDNET_NOUNS.is_file():
        raise FileNotFoundError(f"{WORDNET_NOUNS} is missing: apt-get install wordnet-base (see DATA.md)")
    with open(WORDNET_NOUNS, encoding="utf-8") as f:
        glosses = [line.split(" | ", 1)[1].strip() for line in f if not line.startswith("  ") and " | " in line]
    random.Random(seed).shuffle(glosses)
    return glosses[:count]


def bench_inference(args, device: torch.device) -> list[Result]:
    from kgnlu.data.tokenizer import load_minilm_tokenizer  # tokenizers ships with transformers
    from kgnlu.encoders import load_minilm, minilm_path

    count, batch_size = (256, 32) if args.quick else (2048, 32)
    sentences = real_sentences(count)
    tokenizer = load_minilm_tokenizer()
    ours = load_minilm().to(device).eval()
    peer = transformers.AutoModel.from_pretrained(minilm_path(), attn_implementation="sdpa").to(device).eval()
    sync = torch.cuda.synchronize if device.type == "cuda" else None
    hf = f"transformers {transformers.__version__} AutoModel(sdpa)"
    order = sorted(range(count), key=lambda i: len(tokenizer.encode(sentences[i])))
    orderings = {"corpus-order": sentences, "length-sorted": [sentences[i] for i in order]}

    results = []
    for label, texts in orderings.items():
        batches = [tokenizer.encode_batch(texts[i:i + batch_size], max_length=128).to(device)
                   for i in range(0, count, batch_size)]
        real = sum(int(b.attention_mask.sum()) for b in batches)
        total = sum(b.attention_mask.numel() for b in batches)
        say(f"infer/{label}: {count} WordNet glosses, batch {batch_size}, {real / total:.0%} of padded positions real")

        def run(model, padding_free: bool | None = None, batches=batches) -> Callable[[], None]:
            extra = {} if padding_free is None else {"padding_free": padding_free}

            def go() -> None:
                for b in batches:
                    model(input_ids=b.input_ids, attention_mask=b.attention_mask, token_type_ids=b.token_type_ids,
                          **extra)
            return go

        with torch.inference_mode():
            for padding_free in (False, True):
                max_diff = 0.0
                for b in batches[:8]:
                    a = ours(input_ids=b.input_ids, attention_mask=b.attention_mask, token_type_ids=b.token_type_ids,
                             padding_free=padding_free)
                    h = peer(input_ids=b.input_ids, attention_mask=b.attention_mask, token_type_ids=b.token_type_ids)
                    keep = b.attention_mask.bool()
                    max_diff = max(max_diff, (a.last_hidden_state[keep] - h.last_hidden_state[keep]).abs().max().item())
                assert max_diff < 1e-5 or device.type == "cuda", f"outputs differ by {max_diff}"
                say(f"infer/{label}: padding_free={padding_free}: max |ours - HF| over real tokens = {max_diff:.2e}")
            times, _ = rounds({"ours_padded": run(ours, False), "ours_padding_free": run(ours, True), "hf": run(peer)},
                           3 if args.quick else 5, warmup=1, sync=sync)
        case = f"infer/minilm-wordnet-glosses-b{batch_size}-{label}"
        for name, seconds in times.items():
            say(f"{case}: {name} {summary(seconds)} per pass")
        results.append(Result.from_seconds(case, "sentences_per_s", count, times["ours_padded"], times["hf"],
                                           kind="equal work", peer_name=f"{hf}, both on the same padded batches"))
        results.append(Result.from_seconds(case + "-padding-free", "sentences_per_s", count,
                                           times["ours_padding_free"], times["hf"], kind="kgnlu saving",
                                           peer_name=f"{hf} on padded batches; ours skips pad tokens"))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer rounds and sentences, same comparisons")
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    parser.add_argument("--compile", action="store_true", help="torch.compile both sides' encoders (training)")
    parser.add_argument("--peak-tflops", type=float, default=None, help="peak bf16 TFLOP/s for MFU")
    parser.add_argument("--threads", type=int, default=None, help="CPU threads for both sides (default: torch's)")
    parser.add_argument("--skip-inference", action="store_true", help="training rows only")
    args = parser.parse_args()
    if args.device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("--device cuda: no CUDA device here")
    if args.threads:
        torch.set_num_threads(args.threads)
    transformers.utils.logging.disable_progress_bar()
    device = torch.device(args.device)
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = True
        say(f"device: {torch.cuda.get_device_name()}")
    else:
        say(f"device: cpu, {torch.get_num_threads()} threads for both sides, load average {os.getloadavg()}")
    if device.type == "cpu":
        gemm_notes()
    results = bench_training(args, device)
    if not args.skip_inference:
        try:
            results += bench_inference(args, device)
        except (FileNotFoundError, ImportError) as err:  # a bare GPU box may lack WordNet or the MiniLM wheel
            if device.type != "cuda":
                raise
            say(f"inference rows skipped: {err}")
    emit("encoder", results, packages=("transformers",), notes=NOTES)


if __name__ == "__main__":
    main()
