"""Encoder benchmark: kgnlu's Encoder vs Hugging Face transformers, side by side in one process.

Cases (ratio > 1 = ours better):
  train/...      one pretraining step (forward + backward + AdamW), MLM at 15% + NSP, same shape,
                 same data, same optimizer: ours (Encoder + MLM head scoring masked positions
                 only) vs ``BertForPreTraining`` with ``attn_implementation="sdpa"``. tokens/s.
                 On CUDA: BERT-base, batch 256, length 128, bf16 autocast, plus MFU.
  infer/...      all-MiniLM-L6-v2 encoding real sentences of mixed length (WordNet glosses) in
                 the same batches, ours (padding-free) vs ``AutoModel``; sentences/s, and the
                 max abs difference of the outputs is asserted (< 1e-5).

    python bench/encoder.py --quick            # under a minute on 2 CPU cores
    python bench/encoder.py --device cuda      # GPU figures (absolute numbers quoted only from a GPU)
"""

from __future__ import annotations

import argparse
import os
import random
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402
import transformers  # noqa: E402

from bench.common import Result, emit, interleaved, note  # noqa: E402
from kgnlu.data.tokenizer import load_minilm_tokenizer  # noqa: E402
from kgnlu.encoders import HEADS, Encoder, EncoderConfig, load_minilm, minilm_path  # noqa: E402
from kgnlu.encoders.speed import adamw, autocast, maybe_compile  # noqa: E402

#: dense bf16 peak TFLOP/s by GPU name (datasheet, without sparsity); --peak-tflops overrides.
PEAK_BF16_TFLOPS = {"H200": 989.0, "H100": 989.0, "A100": 312.0, "L40S": 362.0, "L4": 121.0, "A10": 125.0,
                    "RTX 4090": 165.0, "V100": 125.0}
WORDNET_NOUNS = Path("/usr/share/wordnet/data.noun")


# ---------------------------------------------------------------------- training step
def mlm_batch(batch: int, seq: int, vocab: int, device: torch.device, seed: int = 0):
    """Random ids, 15% masked positions (labels elsewhere -100), NSP labels: the same for both models."""
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(1000, vocab, (batch, seq), generator=g)
    masked = torch.rand(batch, seq, generator=g) < 0.15
    labels = torch.where(masked, ids, torch.full_like(ids, -100))
    ids = ids.masked_fill(masked, 103)
    types = (torch.arange(seq) >= seq // 2).long().expand(batch, seq).contiguous()
    nsp = torch.randint(0, 2, (batch,), generator=g)
    return [t.to(device) for t in (ids, types, labels, nsp)]


def train_step_fns(config: EncoderConfig, batch: int, seq: int, device: torch.device, compile_: bool, bf16: bool):
    ids, types, labels, nsp = mlm_batch(batch, seq, config.vocab_size, device)

    torch.manual_seed(0)
    encoder = Encoder(config).to(device)
    mlm, nsp_head = HEADS.get("mlm")(config, encoder).to(device), HEADS.get("nsp")(config, encoder).to(device)
    model = torch.nn.ModuleDict({"encoder": encoder, "mlm": mlm, "nsp": nsp_head})
    ours_opt, fused = adamw(model.parameters(), lr=1e-4)
    run_encoder = maybe_compile(encoder, compile_)

    def ours() -> None:
        with autocast(device, bf16):
            out = run_encoder(input_ids=ids, token_type_ids=types)
            loss = mlm(out, labels).loss + nsp_head(out, nsp).loss
        loss.backward()
        ours_opt.step()
        ours_opt.zero_grad(set_to_none=True)

    hf_config = transformers.BertConfig(
        vocab_size=config.vocab_size, hidden_size=config.hidden_size, num_hidden_layers=config.num_layers,
        num_attention_heads=config.num_heads, intermediate_size=config.ffn_size,
        max_position_embeddings=config.max_positions, attn_implementation="sdpa")
    torch.manual_seed(0)
    peer_model = transformers.BertForPreTraining(hf_config).to(device).train()
    assert peer_model.config._attn_implementation == "sdpa"
    peer_opt, _ = adamw(peer_model.parameters(), lr=1e-4)
    run_peer = maybe_compile(peer_model, compile_)

    def peer() -> None:
        with autocast(device, bf16):
            loss = run_peer(input_ids=ids, token_type_ids=types, labels=labels, next_sentence_label=nsp).loss
        loss.backward()
        peer_opt.step()
        peer_opt.zero_grad(set_to_none=True)

    model.train()
    return ours, peer, fused


def training_flops_per_token(config: EncoderConfig, seq: int, mask_rate: float = 0.15) -> float:
    """Model FLOPs per token of one training step (forward + backward = 3 × forward, 2 FLOPs per MAC).

    Counted once, the same for both sides: the layers' matmuls, attention scores and mixing, and
    the MLM head at the masked positions only (the work the objective needs; HF's extra decoding
    at unmasked positions is not useful work and is not credited).
    """
    H, L, F, V, E = config.hidden_size, config.num_layers, config.ffn_size, config.vocab_size, config.embedding_size
    per_token_macs = L * (4 * H * H + 2 * H * F) + L * 2 * seq * H  # projections + FFN; QKᵀ and PV
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
    note(f"unknown GPU {name!r}: pass --peak-tflops for MFU")
    return None


def bench_training(args, device: torch.device) -> list[Result]:
    if device.type == "cuda":
        config = EncoderConfig.bert()  # BERT-base
        batch, seq, steps = (64, 128, 5) if args.quick else (256, 128, 10)
        case = "train/bert-base-b{}-s{}-bf16{}".format(batch, seq, "-compile" if args.compile else "")
    else:
        config = EncoderConfig.bert(hidden_size=256, num_layers=4, num_heads=4, ffn_size=1024)
        batch, seq, steps = (8, 128, 3) if args.quick else (16, 128, 6)
        case = f"train/small-h256-l4-b{batch}-s{seq}-cpu"
    ours, peer, fused = train_step_fns(config, batch, seq, device, args.compile, bf16=device.type == "cuda")
    sync = torch.cuda.synchronize if device.type == "cuda" else None
    warmup = 3 if args.compile else 1
    ours_s, peer_s = interleaved(ours, peer, rounds=steps, warmup=warmup, sync=sync)
    tokens = batch * seq
    results = [Result(case, "tokens_per_s", tokens / ours_s, tokens / peer_s)]
    note(f"{case}: ours {tokens / ours_s:,.0f} tok/s, HF {tokens / peer_s:,.0f} tok/s, fused AdamW={fused}")
    peak = peak_tflops(args)
    if peak:
        flops = training_flops_per_token(config, seq) * tokens
        results.append(Result(case, "mfu", flops / ours_s / (peak * 1e12), flops / peer_s / (peak * 1e12)))
        note(f"MFU at {peak} TFLOP/s peak: ours {results[-1].ours:.1%}, HF {results[-1].peer:.1%}")
    return results


# ---------------------------------------------------------------------- inference
def real_sentences(count: int, seed: int = 0) -> list[str]:
    """WordNet noun glosses (text after ' | '), shuffled so every batch mixes lengths."""
    if not WORDNET_NOUNS.is_file():
        raise SystemExit(f"{WORDNET_NOUNS} is missing: apt-get install wordnet-base (see DATA.md)")
    with open(WORDNET_NOUNS, encoding="utf-8") as f:
        glosses = [line.split(" | ", 1)[1].strip() for line in f if not line.startswith("  ") and " | " in line]
    random.Random(seed).shuffle(glosses)
    return glosses[:count]


def bench_inference(args, device: torch.device) -> list[Result]:
    count, batch_size = (256, 32) if args.quick else (2048, 32)
    sentences = real_sentences(count)
    tokenizer = load_minilm_tokenizer()
    batches = [tokenizer.encode_batch(sentences[i:i + batch_size], max_length=128).to(device)
               for i in range(0, count, batch_size)]
    real = sum(int(b.attention_mask.sum()) for b in batches)
    total = sum(b.attention_mask.numel() for b in batches)
    note(f"inference: {count} WordNet glosses, batch {batch_size}, {real / total:.0%} of padded positions are real")
    ours = load_minilm().to(device).eval()
    peer = transformers.AutoModel.from_pretrained(minilm_path(), attn_implementation="sdpa").to(device).eval()
    sync = torch.cuda.synchronize if device.type == "cuda" else None

    results = []
    for label, ordered in (("corpus-order", batches), ("length-sorted", None)):
        if ordered is None:  # both sides get batches of similar length: little padding left to skip
            order = sorted(range(count), key=lambda i: len(tokenizer.encode(sentences[i])))
            ordered = [tokenizer.encode_batch([sentences[i] for i in order[j:j + batch_size]], max_length=128).to(device)
                       for j in range(0, count, batch_size)]
        with torch.inference_mode():
            max_diff = 0.0
            for b in ordered[:8]:
                a = ours(input_ids=b.input_ids, attention_mask=b.attention_mask, token_type_ids=b.token_type_ids)
                h = peer(input_ids=b.input_ids, attention_mask=b.attention_mask, token_type_ids=b.token_type_ids)
                keep = b.attention_mask.bool()
                max_diff = max(max_diff, (a.last_hidden_state[keep] - h.last_hidden_state[keep]).abs().max().item())
            assert max_diff < 1e-5 or device.type == "cuda", f"outputs differ by {max_diff}"
            note(f"infer/{label}: max |ours - HF| over real tokens = {max_diff:.2e}")

            def run_ours(batches=ordered) -> None:
                for b in batches:
                    ours(input_ids=b.input_ids, attention_mask=b.attention_mask, token_type_ids=b.token_type_ids)

            def run_peer(batches=ordered) -> None:
                for b in batches:
                    peer(input_ids=b.input_ids, attention_mask=b.attention_mask, token_type_ids=b.token_type_ids)

            ours_s, peer_s = interleaved(run_ours, run_peer, rounds=3, warmup=1, sync=sync)
        case = f"infer/minilm-wordnet-glosses-b{batch_size}-{label}"
        results.append(Result(case, "sentences_per_s", count / ours_s, count / peer_s))
        note(f"{case}: ours {count / ours_s:,.0f} sent/s, HF {count / peer_s:,.0f} sent/s")
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smaller inputs, same comparisons (< 1 min on CPU)")
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    parser.add_argument("--compile", action="store_true", help="torch.compile both models (training case)")
    parser.add_argument("--peak-tflops", type=float, default=None, help="peak bf16 TFLOP/s for MFU")
    parser.add_argument("--threads", type=int, default=None, help="CPU threads (default: torch's)")
    args = parser.parse_args()
    if args.device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("--device cuda: no CUDA device here")
    if args.threads:
        torch.set_num_threads(args.threads)
    transformers.utils.logging.disable_progress_bar()
    device = torch.device(args.device)
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = True
        note(f"device: {torch.cuda.get_device_name()}")
    else:
        note(f"device: cpu, {torch.get_num_threads()} threads")
    results = bench_training(args, device) + bench_inference(args, device)
    emit("encoder", results)


if __name__ == "__main__":
    main()
