"""Few-shot demonstrations from a training split, never the evaluated items (GPT-3; issue 23)."""

from __future__ import annotations

import pytest
import torch

from kgnlu.data.tokenizer import train_byte_level_bpe
from kgnlu.encoders import Encoder, EncoderConfig
from kgnlu.errors import ConfigError
from kgnlu.eval.fewshot import run_fewshot_eval
from kgnlu.qa.fewshot import (
    CausalLMScorer,
    FewShotExample,
    country_capital_examples,
    evaluate_fewshot,
)
from kgnlu.qa.fewshot_prompts import build_prompt, sample_demos, split_demonstration_pool


def items(n: int) -> list[FewShotExample]:
    return [FewShotExample(f"Which city is number {i}?", (f"city {i}", "nowhere"), 0, id=f"q{i}") for i in range(n)]


def test_split_is_disjoint_seeded_and_order_free():
    examples = country_capital_examples(seed=0)
    pool, evaluated = split_demonstration_pool(examples, 32, seed=0)
    assert len(pool) == 32 and len(pool) + len(evaluated) == len(examples)
    assert not {e.question for e in pool} & {e.question for e in evaluated}
    assert not {e.id for e in pool} & {e.id for e in evaluated}
    again = split_demonstration_pool(list(reversed(examples)), 32, seed=0)
    assert {e.id for e in again[0]} == {e.id for e in pool}  # a set of items, not positions
    assert {e.id for e in split_demonstration_pool(examples, 32, seed=1)[0]} != {e.id for e in pool}
    with pytest.raises(ConfigError, match="pool"):
        split_demonstration_pool(examples[:10], 10)


def test_demonstrations_never_include_the_query_by_id():
    pool = items(6)
    renamed = FewShotExample("Which city is number 3, again?", ("city 3", "nowhere"), 0, id="q3")
    for seed in range(20):
        assert all(d.id != "q3" for d in sample_demos(pool, 5, seed, renamed))


def test_run_fewshot_eval_draws_demonstrations_only_from_the_pool(tmp_path):
    tokenizer = train_byte_level_bpe(["Which city is number 7? city 7 nowhere"] * 5, vocab_size=300, min_frequency=1)
    torch.manual_seed(0)
    encoder = Encoder(EncoderConfig.gpt2(vocab_size=tokenizer.vocab_size, hidden_size=16, num_layers=1, num_heads=2,
                                         ffn_size=32, max_positions=256))
    scorer = CausalLMScorer.from_kgnlu(encoder, tokenizer=tokenizer, batch_size=8)
    examples = items(14)
    report = run_fewshot_eval(scorer, examples, shots=(0, 2), pool_size=6, seed=0)
    pool, evaluated = split_demonstration_pool(examples, 6, seed=0)
    assert report["examples"] == len(evaluated) == 8 and report["demonstration_pool"] == 6
    # each evaluated prompt holds only pool questions as demonstrations (rebuilt the way evaluate_fewshot does)
    pool_questions = {e.question for e in pool}
    for ex in evaluated:
        demos = sample_demos(pool, 2, 0, ex, key=ex.id)
        assert {d.question for d in demos} <= pool_questions and ex.question not in pool_questions
        assert build_prompt("Answer the question.", demos, ex).count("Q: ") == 3
    two_shot = next(r for r in report["results"] if r["shots"] == 2)
    direct = evaluate_fewshot(scorer, evaluated, 2, 0, "length", pool=pool, with_facts=False)
    assert (two_shot["correct"], two_shot["accuracy"]) == (direct["correct"], direct["accuracy"])
    with pytest.raises(ConfigError, match="shares"):
        run_fewshot_eval(scorer, examples, shots=(1,), pool=examples[:3])
