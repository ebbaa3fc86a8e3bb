"""Few-shot mode (GPT-3): score multiple-choice answers by a causal LM's log-likelihood.

    scorer = CausalLMScorer.from_kgnlu("runs/gpt2-mini")        # a pretraining run (encoder/ + tokenizer/)
    scorer = CausalLMScorer.from_hf("/models/gpt2")             # any local HF causal LM folder, offline
    scorer.loglikelihood(["Q: capital of France?\\nA:"], [" Paris"])   # [(sum log p, n_tokens)]
    evaluate_fewshot(scorer, country_capital_examples(kg), shots=5)     # {"accuracy": ..., ...}
    perplexity(scorer, ["some text"])                                   # sliding window

Scoring follows the EleutherAI evaluation harness: the context and the continuation are
tokenised together (the continuation's tokens are those after the context's), a request with an
empty context is conditioned on the end-of-text token, and a sequence longer than the model's
window keeps its right end (the context is truncated from the left). Requests are sorted by length
and batched with right padding: in a causal model a real token never attends to the pads after it,
so padding changes no score (tested against one-by-one scoring).

Choice normalisation (``normalize``): ``"length"`` — mean log-prob per token (GPT-3's default);
``"none"`` — the summed log-prob; ``"char"`` — per character of the choice (the harness's
acc_norm); ``"unconditional"`` — log p(choice | prompt) − log p(choice | answer prefix) (GPT-3's
normalisation for ARC/OpenBookQA, which discounts a priori likely answers).
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import torch
import torch.nn.functional as F

from kgnlu.errors import CheckpointError, ConfigError, QAError
from kgnlu.qa.data.capitals import country_capital_examples
from kgnlu.qa.fewshot_prompts import (
    DEFAULT_FORMAT,
    DEFAULT_INSTRUCTION,
    FewShotExample,
    PromptFormat,
    build_prompt,
    continuation,
    sample_demos,
)

__all__ = ["NORMALIZATIONS", "CausalLMScorer", "FewShotExample", "build_prompt", "country_capital_examples",
           "evaluate_fewshot", "lm_choice_scores", "perplexity"]

NORMALIZATIONS = ("length", "none", "char", "unconditional")


# ---------------------------------------------------------------------- model backends
class NextTokenLogits(Protocol):
    """What the scorer needs from a model: next-token logits at chosen positions."""

    max_positions: int

    def logits_at(self, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                  positions: torch.Tensor) -> torch.Tensor:
        """input_ids, attention_mask (B, S) right-padded; positions (B, S) bool → logits (M, V),
        rows in row-major order of the True positions."""


class KgnluCausalLM:
    """A kgnlu causal :class:`~kgnlu.encoders.Encoder` with its ``clm`` head."""

    def __init__(self, encoder: torch.nn.Module, head: torch.nn.Module):
        self.encoder, self.head = encoder.eval(), head.eval()
        self.max_positions = int(encoder.config.max_positions)

    def to(self, device: torch.device | str) -> KgnluCausalLM:
        self.encoder.to(device), self.head.to(device)
        return self

    def logits_at(self, input_ids, attention_mask, positions):
        from kgnlu.encoders.outputs import EncoderOutput

        # No attention mask: pads sit to the right of every real token, which the causal mask
        # already hides from it; leaving the mask off keeps SDPA on its causal fast path.
        hidden = self.encoder(input_ids).last_hidden_state  # (B, S, H)
        rows = hidden[positions]  # (M, H): the decoder runs only where a score is read
        return self.head(EncoderOutput(last_hidden_state=rows)).logits  # (M, V)


class HFCausalLM:
    """A ``transformers`` AutoModelForCausalLM."""

    def __init__(self, model: torch.nn.Module):
        self.model = model.eval()
        config = model.config
        self.max_positions = int(getattr(config, "n_positions", None) or getattr(config, "max_position_embeddings", None)
                                 or 2048)

    def to(self, device: torch.device | str) -> HFCausalLM:
        self.model.to(device)
        return self

    def logits_at(self, input_ids, attention_mask, positions):
        logits = self.model(input_ids=input_ids, attention_mask=attention_mask).logits  # (B, S, V)
        return logits[positions]  # (M, V)


# ---------------------------------------------------------------------- tokenizers
class TokenCodec(Protocol):
    prefix_id: int  # conditions a request with an empty context (end-of-text / BOS)
    pad_id: int

    def encode(self, text: str) -> list[int]: ...


class KgnluTokens:
    def __init__(self, tokenizer):
        self.tokenizer = tokenizer
        prefix = next((tokenizer.token_id(r) for r in ("eos", "bos", "cls", "sep") if tokenizer.token_id(r) is not None),
                      None)
        if prefix is None:
            raise ConfigError("the tokenizer has no eos/bos/cls token to condition an empty context on")
        self.prefix_id = prefix
        self.pad_id = tokenizer.pad_id if tokenizer.pad_id is not None else prefix

    def encode(self, text: str) -> list[int]:
        return self.tokenizer.encode(text, add_special_tokens=False)


class HFTokens:
    def __init__(self, tokenizer):
        self.tokenizer = tokenizer
        prefix = tokenizer.eos_token_id if tokenizer.eos_token_id is not None else tokenizer.bos_token_id
        if prefix is None:
            raise ConfigError("the Hugging Face tokenizer has neither an eos nor a bos token")
        self.prefix_id = int(prefix)
        self.pad_id = int(tokenizer.pad_token_id) if tokenizer.pad_token_id is not None else self.prefix_id

    def encode(self, text: str) -> list[int]:
        return list(self.tokenizer(text, add_special_tokens=False)["input_ids"])


# ---------------------------------------------------------------------- the scorer
class CausalLMScorer:
    """Log-likelihoods of continuations under a causal LM, batched, on one device."""

    def __init__(self, model: KgnluCausalLM | HFCausalLM, tokens: TokenCodec, *, batch_size: int = 16,
                 device: str | torch.device = "cpu", max_positions: int | None = None):
        if batch_size < 1:
            raise ConfigError(f"batch_size must be >= 1, got {batch_size}")
        self.device = torch.device(device)
        self.model = model.to(self.device)
        self.tokens = tokens
        self.batch_size = batch_size
        self.max_positions = min(max_positions or model.max_positions, model.max_positions)
        if self.max_positions < 2:
            raise ConfigError(f"max_positions must be >= 2 to score anything, got {self.max_positions}")

    # -- construction ---------------------------------------------------------------------------
    @classmethod
    def from_kgnlu(cls, run_dir_or_encoder, tokenizer=None, *, head: torch.nn.Module | None = None,
                   batch_size: int = 16, device: str | torch.device = "cpu") -> CausalLMScorer:
        """From a pretraining run folder (``encoder/`` + ``tokenizer/``), an encoder folder (the
        tokenizer beside it in ``tokenizer/`` or ``../tokenizer``, or given), an ``Encoder``, or a
        ``PretrainingModel`` trained with ``clm`` (its head is used). ``tokenizer``: a kgnlu
        ``Tokenizer`` or its folder. The encoder must be causal (GPT-2 shape)."""
        from kgnlu.data.tokenizer import Tokenizer
        from kgnlu.encoders.encoder import Encoder
        from kgnlu.encoders.heads import HEADS

        source = run_dir_or_encoder
        if hasattr(source, "objectives") and hasattr(source, "encoder"):  # a PretrainingModel
            if head is None and "clm" in source.objectives:
                head = source.objectives["clm"].head
            source = source.encoder
        if isinstance(source, torch.nn.Module):
            encoder, tok_dirs = source, []
        else:
            folder = Path(source).expanduser()
            enc_dir = folder / "encoder" if (folder / "encoder").is_dir() else folder
            if not enc_dir.is_dir():
                raise CheckpointError(f"{folder} is not a folder; pass a pretraining run folder or an encoder folder")
            encoder = Encoder.from_pretrained(enc_dir)
            tok_dirs = [folder / "tokenizer", enc_dir / "tokenizer", enc_dir.parent / "tokenizer", enc_dir]
        if tokenizer is None:
            found = next((d for d in tok_dirs if (d / "tokenizer.json").is_file()), None)
            if found is None:
                raise CheckpointError("no tokenizer found beside the encoder (looked for tokenizer/tokenizer.json); "
                                      "pass tokenizer=PATH or a kgnlu Tokenizer")
            tokenizer = found
        if not isinstance(tokenizer, Tokenizer):
            tokenizer = Tokenizer.load(tokenizer)
        config = encoder.config
        if not config.causal:
            raise QAError("few-shot scoring needs a causal encoder (GPT-2 shape, EncoderConfig.gpt2); "
                          "this one is bidirectional")
        if head is None:
            # The clm head of a saved encoder is the tied input embedding: nothing of its own to load,
            # unless the config gives it weights that save_pretrained does not keep.
            if config.embedding_projection or not config.tie_word_embeddings:
                raise CheckpointError("this causal encoder's LM head has weights of its own (untied or factorised "
                                      "embeddings) that the encoder folder does not hold; pass head=the trained "
                                      "clm head, or the PretrainingModel itself")
            head = HEADS.get("clm")(config, encoder)
        if tokenizer.vocab_size > config.vocab_size:
            raise CheckpointError(f"the tokenizer has {tokenizer.vocab_size} tokens but the encoder only "
                                  f"{config.vocab_size}; they are not from the same run")
        return cls(KgnluCausalLM(encoder, head), KgnluTokens(tokenizer), batch_size=batch_size, device=device)

    @classmethod
    def from_hf(cls, path: str | Path, tokenizer: str | Path | None = None, *, batch_size: int = 8,
                device: str | torch.device = "cpu", dtype: torch.dtype = torch.float32) -> CausalLMScorer:
        """A local Hugging Face causal LM folder (safetensors weights), opened offline; the
        tokenizer from the same folder or ``tokenizer``."""
        from transformers import AutoModelForCausalLM, AutoTokenizer

        path = Path(path).expanduser()
        if not path.is_dir():
            raise CheckpointError(f"{path} is not a folder; pass a local Hugging Face model folder "
                                  "(config.json + model.safetensors)")
        try:
            model = AutoModelForCausalLM.from_pretrained(path, local_files_only=True, use_safetensors=True,
                                                         dtype=dtype)
            tok = AutoTokenizer.from_pretrained(Path(tokenizer or path), local_files_only=True)
        except (OSError, ValueError) as err:
            raise CheckpointError(f"cannot open {path} as a causal LM offline: {err}") from None
        return cls(HFCausalLM(model), HFTokens(tok), batch_size=batch_size, device=device)

    # -- scoring --------------------------------------------------------------------------------
    def encode(self, text: str) -> list[int]:
        return self.tokens.encode(text)

    def encode_pair(self, context: str, cont: str) -> tuple[list[int], list[int]]:
        """Harness tokenisation: trailing spaces of the context move to the continuation, the pair
        is encoded as one string, and the continuation is what follows the context's tokens."""
        stripped = context.rstrip(" ")
        cont = context[len(stripped):] + cont
        if not stripped:
            return [self.tokens.prefix_id], self.encode(cont)
        whole = self.encode(stripped + cont)
        ctx = self.encode(stripped)
        return whole[:len(ctx)], whole[len(ctx):]

    def loglikelihood(self, contexts: Sequence[str], continuations: Sequence[str]) -> list[tuple[float, int]]:
        """For each pair, (Σ log p(continuation token | everything before), number of continuation tokens)."""
        if len(contexts) != len(continuations):
            raise ConfigError(f"{len(contexts)} contexts but {len(continuations)} continuations")
        return self.loglikelihood_tokens([self.encode_pair(c, x) for c, x in zip(contexts, continuations, strict=True)])

    @torch.inference_mode()
    def loglikelihood_tokens(self, requests: Sequence[tuple[Sequence[int], Sequence[int]]]) -> list[tuple[float, int]]:
        """Token-level :meth:`loglikelihood`: (context ids, continuation ids) pairs."""
        window = self.max_positions
        rows: list[tuple[list[int], list[int], int]] = []  # (input ids, target ids, n scored)
        for ctx, cont in requests:
            ctx, cont = list(ctx) or [self.tokens.prefix_id], list(cont)
            if not cont:
                raise ConfigError("a continuation must hold at least one token")
            if len(cont) > window:
                raise QAError(f"a continuation of {len(cont)} tokens does not fit the model's {window} positions; "
                              "score long texts with perplexity() / rolling_loglikelihood()")
            whole = (ctx + cont)[-(window + 1):]  # the left end goes first
            rows.append((whole[:-1], whole[1:], len(cont)))
        results: list[tuple[float, int]] = [(0.0, 0)] * len(rows)
        order = sorted(range(len(rows)), key=lambda i: -len(rows[i][0]))  # longest first: fewer pads
        for start in range(0, len(order), self.batch_size):
            chunk = order[start:start + self.batch_size]
            for i, value in zip(chunk, self._score_batch([rows[i] for i in chunk]), strict=True):
                results[i] = value
        return results

    def _score_batch(self, rows: list[tuple[list[int], list[int], int]]) -> list[tuple[float, int]]:
        length = max(len(inp) for inp, _, _ in rows)
        ids = torch.full((len(rows), length), self.tokens.pad_id, dtype=torch.long)
        mask = torch.zeros((len(rows), length), dtype=torch.long)
        targets = torch.zeros((len(rows), length), dtype=torch.long)
        scored = torch.zeros((len(rows), length), dtype=torch.bool)
        for b, (inp, tgt, n) in enumerate(rows):
            ids[b, :len(inp)] = torch.tensor(inp)
            mask[b, :len(inp)] = 1
            targets[b, :len(tgt)] = torch.tensor(tgt)
            scored[b, len(inp) - n:len(inp)] = True  # the last n positions predict the continuation
        ids, mask, targets, scored = (t.to(self.device) for t in (ids, mask, targets, scored))
        logits = self.model.logits_at(ids, mask, scored)  # (M, V)
        logprobs = F.log_softmax(logits.float(), dim=-1).gather(1, targets[scored][:, None]).squeeze(1)  # (M,)
        counts = [n for _, _, n in rows]
        return [(float(part.sum()), n) for part, n in zip(logprobs.split(counts), counts, strict=True)]

    def rolling_loglikelihood(self, texts: Sequence[str], stride: int | None = None) -> list[tuple[float, int]]:
        """Whole-text log-likelihood with a sliding window: every token is scored exactly once,
        the first on the end-of-text token, later ones with up to ``max_positions − stride`` tokens
        of earlier context carried into each window (``stride`` defaults to half the window)."""
        window = self.max_positions
        stride = stride or max(1, window // 2)
        if not 1 <= stride <= window:
            raise ConfigError(f"stride must be in 1..{window}, got {stride}")
        requests, owners = [], []
        for t, text in enumerate(texts):
            seq = [self.tokens.prefix_id] + self.encode(text)
            done = 1  # seq[done:] are still to be scored
            while done < len(seq):
                end = min(done + stride, len(seq))
                begin = max(0, end - 1 - window)  # the window's input is seq[begin:end-1]
                requests.append((seq[begin:done], seq[done:end]))
                owners.append(t)
                done = end
        totals = [[0.0, 0] for _ in texts]
        for t, (lp, n) in zip(owners, self.loglikelihood_tokens(requests), strict=True):
            totals[t][0] += lp
            totals[t][1] += n
        return [(lp, n) for lp, n in totals]


def perplexity(scorer: CausalLMScorer, texts: Sequence[str], stride: int | None = None) -> float:
    """exp(mean negative log-likelihood per token) over all ``texts`` (sliding window per text)."""
    scores = scorer.rolling_loglikelihood(texts, stride)
    tokens = sum(n for _, n in scores)
    if tokens == 0:
        raise ConfigError("perplexity needs at least one token of text")
    return math.exp(-sum(lp for lp, _ in scores) / tokens)


# ---------------------------------------------------------------------- multiple choice
def _normalised(raw: Sequence[tuple[float, int]], choices: Sequence[str], normalize: str,
                unconditional: Sequence[tuple[float, int]] | None) -> list[float]:
    if normalize == "length":
        return [lp / n for lp, n in raw]
    if normalize == "none":
        return [lp for lp, _ in raw]
    if normalize == "char":
        return [lp / max(1, len(continuation(c))) for (lp, _), c in zip(raw, choices, strict=True)]
    return [lp - u for (lp, _), (u, _) in zip(raw, unconditional, strict=True)]


def _check_normalize(normalize: str) -> None:
    if normalize not in NORMALIZATIONS:
        raise ConfigError(f"normalize must be one of {', '.join(NORMALIZATIONS)}, got {normalize!r}")


def lm_choice_scores(scorer: CausalLMScorer, prompt: str, choices: Sequence[str], normalize: str = "length",
                  fmt: PromptFormat = DEFAULT_FORMAT) -> list[float]:
    """One score per choice (higher = more likely) for the continuation ``" " + choice`` of ``prompt``."""
    _check_normalize(normalize)
    conts = [continuation(c) for c in choices]
    raw = scorer.loglikelihood([prompt] * len(conts), conts)
    uncond = scorer.loglikelihood([fmt.answer_prefix] * len(conts), conts) if normalize == "unconditional" else None
    return _normalised(raw, choices, normalize, uncond)


def evaluate_fewshot(scorer: CausalLMScorer, examples: Sequence[FewShotExample], shots: int | Sequence[int],
                     seed: int = 0, normalize: str = "length", *, pool: Sequence[FewShotExample] | None = None,
                     instruction: str | None = DEFAULT_INSTRUCTION, fmt: PromptFormat = DEFAULT_FORMAT,
                     with_facts: bool = True) -> dict:
    """Accuracy of picking the highest-scoring choice, with ``shots`` demonstrations per query drawn
    (by ``seed``) from ``pool``, never the query itself. GPT-3's protocol: ``pool`` = the task's
    training split (:func:`~kgnlu.qa.fewshot_prompts.split_demonstration_pool`; what
    :func:`kgnlu.eval.fewshot.run_fewshot_eval` passes); ``pool=None`` draws from the other
    ``examples`` (leave-one-out: demonstrations from the evaluated set). ``with_facts=False`` drops every
    example's facts from the prompts (to measure what the facts add).

    Returns ``{"accuracy", "correct", "examples", "shots", "normalize", "seed", "chance",
    "seconds", "predictions": [{"id", "predicted", "answer_index", "scores"}]}``; with a list of
    shot counts, ``{"shots": {k: that dict}}`` (zero-, one- and few-shot in one call).
    """
    _check_normalize(normalize)
    if not isinstance(shots, int):
        return {"shots": {int(k): evaluate_fewshot(scorer, examples, int(k), seed, normalize, pool=pool,
                                                   instruction=instruction, fmt=fmt, with_facts=with_facts)
                          for k in shots}}
    if not examples:
        raise ConfigError("evaluate_fewshot needs at least one example")
    start = time.perf_counter()
    pool = list(examples if pool is None else pool)
    if not with_facts:
        pool = [FewShotExample(d.question, d.choices, d.answer_index, (), d.id) for d in pool]
    contexts, conts, owners = [], [], []
    for i, ex in enumerate(examples):
        demos = sample_demos(pool, shots, seed, ex, key=ex.id)
        prompt = build_prompt(instruction, demos, ex, facts=ex.facts if with_facts else (), fmt=fmt)
        for c in ex.choices:
            contexts.append(prompt)
            conts.append(continuation(c))
            owners.append(i)
    raw = scorer.loglikelihood(contexts, conts)
    uncond = scorer.loglikelihood([fmt.answer_prefix] * len(conts), conts) if normalize == "unconditional" else None
    predictions, correct, at = [], 0, 0
    for i, ex in enumerate(examples):
        k = len(ex.choices)
        scores = _normalised(raw[at:at + k], ex.choices, normalize, None if uncond is None else uncond[at:at + k])
        at += k
        predicted = max(range(k), key=lambda j: (scores[j], -j))  # ties go to the earlier choice
        correct += predicted == ex.answer_index
        predictions.append({"id": ex.id or str(i), "predicted": predicted, "answer_index": ex.answer_index,
                            "scores": [round(s, 6) for s in scores]})
    n = len(examples)
    return {"accuracy": correct / n, "correct": correct, "examples": n, "shots": shots, "normalize": normalize,
            "seed": seed, "chance": sum(1 / len(e.choices) for e in examples) / n,
            "seconds": round(time.perf_counter() - start, 3), "predictions": predictions}
