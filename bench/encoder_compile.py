"""Does torch.compile help the encoder's training step? Eager and compiled, ours and HF, one process.

Both sides of bench/encoder.py's equal-work training case (kgnlu Encoder + masked-row MLM head +
NSP vs HF ``BertModel`` (sdpa) + HF's heads on the masked rows), each eager and with its encoder
``torch.compile``d (default inductor backend); compile time (the first two steps) is reported in the
notes and excluded from the timed rounds. Four step functions, alternated round by round.

    python bench/encoder_compile.py --quick            # CPU, H=256 L=4 B=8 S=128
    python bench/encoder_compile.py --device cuda      # BERT-base, B=256, S=128, bf16 autocast
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402
import transformers  # noqa: E402

from bench.common import Result, emit  # noqa: E402
from bench.encoder import NOTES, rounds, say, summary, train_step_fns, training_shapes  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer rounds")
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    parser.add_argument("--threads", type=int, default=None, help="CPU threads for all sides (default: torch's)")
    args = parser.parse_args()
    if args.device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("--device cuda: no CUDA device here")
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    bf16 = device.type == "cuda"
    sync = torch.cuda.synchronize if bf16 else None
    say(f"device: {torch.cuda.get_device_name() if bf16 else 'cpu'}, {torch.get_num_threads()} threads")
    label, config, batch, seq, steps = training_shapes(args, device)[0]
    case = f"train/{label}-b{batch}-s{seq}-{'bf16' if bf16 else 'cpu'}"
    eager = train_step_fns(config, batch, seq, device, False, bf16)
    compiled = train_step_fns(config, batch, seq, device, True, bf16)
    fns = {"ours": eager["ours"], "hf": eager["hf_equal"], "ours_compiled": compiled["ours"],
           "hf_compiled": compiled["hf_equal"]}
    for name in ("ours_compiled", "hf_compiled"):
        start = time.perf_counter()
        fns[name]()
        fns[name]()
        say(f"{case}: {name} compile + first 2 steps {time.perf_counter() - start:.1f} s (not in the timings)")
    wall, cpu = rounds(fns, steps, warmup=1, sync=sync)
    for name in fns:
        say(f"{case}: {name} wall {summary(wall[name])}; CPU {summary(cpu[name])} per step")
    tokens = batch * seq
    hf = f"transformers {transformers.__version__} BertModel(sdpa) + BertPreTrainingHeads on the masked rows"
    results = [
        Result.from_seconds(case + "-compile", "tokens_per_s", tokens, wall["ours_compiled"], wall["hf_compiled"],
                            kind="equal work", peer_name=hf + ", torch.compile"),
        Result.from_seconds(case + "-eager", "tokens_per_s", tokens, wall["ours"], wall["hf"],
                            kind="equal work", peer_name=hf + ", eager"),
        Result.from_seconds(case + "-ours-compile-vs-ours-eager", "tokens_per_s", tokens, wall["ours_compiled"],
                            wall["ours"], kind="equal work", peer_name="kgnlu eager (same code, not compiled)"),
    ]
    if device.type == "cpu":
        results.append(Result.from_seconds(case + "-ours-compile-vs-ours-eager", "tokens_per_cpu_s", tokens,
                                           cpu["ours_compiled"], cpu["ours"], kind="equal work",
                                           peer_name="kgnlu eager (process CPU time)"))
    emit("encoder_compile", results, packages=("transformers",), notes=NOTES)


if __name__ == "__main__":
    main()
