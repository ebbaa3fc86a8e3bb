"""In-context prompts (GPT-3, Brown et al. 2020): zero-, one- and few-shot, with optional graph facts.

    pool, evaluated = split_demonstration_pool(examples, pool_size=32, seed=0)   # disjoint (GPT-3)
    query = FewShotExample("What is the capital of France?", ["Paris", "Lyon", "Nice"], 0)
    demos = sample_demos(pool, k=3, seed=0, query=query)      # never the query itself
    prompt = build_prompt("Answer the question.", demos, query, facts=["France capital Paris"])

renders as::

    Answer the question.

    Q: What is the capital of Spain?
    A: Madrid

    Facts:
    - France capital Paris
    Q: What is the capital of France?
    A:

and each choice is scored as the continuation ``" " + choice`` (see :func:`continuation`).
User text (questions, choices, facts) has its whitespace collapsed to single spaces, so a
question holding "\\n\\nQ: ...\\nA:" cannot forge extra demonstrations: it stays one line of text.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Sequence
from dataclasses import dataclass

from kgnlu.errors import ConfigError

DEFAULT_INSTRUCTION = "Answer the question."


def one_line(text: str) -> str:
    """Whitespace (newlines included) collapsed to single spaces: user text cannot add prompt lines."""
    return " ".join(str(text).split())


Fact = str | tuple[str, str, str]


@dataclass(frozen=True)
class FewShotExample:
    """A multiple-choice question; ``facts`` are optional retrieved graph facts for its prompt."""

    question: str
    choices: tuple[str, ...]
    answer_index: int
    facts: tuple[Fact, ...] = ()
    id: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "choices", tuple(self.choices))
        object.__setattr__(self, "facts", tuple(self.facts))
        if not self.choices:
            raise ConfigError(f"example {self.id or self.question!r} has no choices")
        if not 0 <= self.answer_index < len(self.choices):
            raise ConfigError(f"example {self.id or self.question!r}: answer_index {self.answer_index} "
                              f"is outside its {len(self.choices)} choices")

    @property
    def answer(self) -> str:
        return self.choices[self.answer_index]


@dataclass(frozen=True)
class PromptFormat:
    """How one example is written. The defaults are the GPT-3 paper's Q/A layout."""

    question_prefix: str = "Q: "
    answer_prefix: str = "A:"  # the prompt ends with this; a choice follows after one space
    facts_header: str = "Facts:"
    separator: str = "\n\n"  # between the instruction and the examples
    show_choices: bool = False  # list the choices under the question ("Choices: a, b, c")
    fact_bullet: str = "- "


DEFAULT_FORMAT = PromptFormat()


def format_fact(fact: Fact) -> str:
    """A fact string, or a (head, relation, tail) label triple written as "head relation tail"."""
    if isinstance(fact, str):
        return one_line(fact)
    if len(fact) != 3:
        raise ConfigError(f"a fact is a string or a (head, relation, tail) triple, got {fact!r}")
    return " ".join(one_line(part) for part in fact)


def format_facts(facts: Sequence[Fact], fmt: PromptFormat = DEFAULT_FORMAT) -> str:
    lines = [fmt.facts_header] + [fmt.fact_bullet + format_fact(f) for f in facts]
    return "\n".join(lines)


def continuation(choice: str) -> str:
    """What is scored after the prompt: a space then the choice (GPT-2 BPE words carry their space)."""
    return " " + one_line(choice)


def render_example(example: FewShotExample | str, *, answer: bool, facts: Sequence[Fact] | None = None,
                   fmt: PromptFormat = DEFAULT_FORMAT) -> str:
    """One block: optional facts, the question, optional choices, and the answer line
    (with the gold answer for a demonstration, empty for the query)."""
    question = example if isinstance(example, str) else example.question
    lines = []
    if facts:
        lines.append(format_facts(facts, fmt))
    lines.append(fmt.question_prefix + one_line(question))
    if fmt.show_choices and not isinstance(example, str):
        lines.append("Choices: " + ", ".join(one_line(c) for c in example.choices))
    if answer:
        if isinstance(example, str):
            raise ConfigError("a demonstration needs its answer: pass a FewShotExample, not a string")
        lines.append(fmt.answer_prefix + continuation(example.answer))
    else:
        lines.append(fmt.answer_prefix)
    return "\n".join(lines)


def build_prompt(instruction: str | None, demos: Sequence[FewShotExample], query: FewShotExample | str,
                 facts: Sequence[Fact] | None = None, fmt: PromptFormat = DEFAULT_FORMAT) -> str:
    """The context a causal LM continues: instruction, ``len(demos)`` solved examples (each with its
    own ``facts``, if any), then the query with ``facts`` (default: the query's own), ending in the
    answer prefix. Zero-shot is ``demos=[]``; one-shot ``demos=[d]``."""
    if facts is None and isinstance(query, FewShotExample):
        facts = query.facts
    blocks = [render_example(d, answer=True, facts=d.facts, fmt=fmt) for d in demos]
    blocks.append(render_example(query, answer=False, facts=facts, fmt=fmt))
    body = fmt.separator.join(blocks)
    return f"{one_line(instruction)}{fmt.separator}{body}" if instruction else body


def sample_demos(pool: Sequence[FewShotExample], k: int, seed: int, query: FewShotExample | str,
                 key: str = "") -> list[FewShotExample]:
    """``k`` demonstrations drawn without replacement from ``pool``, never the query itself (same
    question, or same non-empty id). GPT-3's protocol passes the task's training split as ``pool``
    (:func:`split_demonstration_pool`); passing the evaluated items themselves is leave-one-out. The draw depends only on ``seed``, ``key`` (e.g. the query's id) and the question,
    not on evaluation order, so a query gets the same demonstrations in any run or batch."""
    if k < 0:
        raise ConfigError(f"shots must be >= 0, got {k}")
    if k == 0:
        return []
    question = query if isinstance(query, str) else query.question
    query_id = "" if isinstance(query, str) else query.id
    candidates = [d for d in pool if d.question != question and not (query_id and d.id == query_id)]
    if len(candidates) < k:
        raise ConfigError(f"{k}-shot needs {k} demonstrations besides the query but the pool has "
                          f"{len(candidates)}; lower shots or pass a larger pool")
    # random.Random seeded with a str hashes it with SHA-512: stable across processes and runs.
    rng = random.Random(f"{seed}\x1f{key}\x1f{question}")
    return rng.sample(candidates, k)


def split_demonstration_pool(examples: Sequence[FewShotExample], pool_size: int, seed: int = 0
                             ) -> tuple[list[FewShotExample], list[FewShotExample]]:
    """(demonstration pool, evaluation items): GPT-3 draws each query's K demonstrations from the
    task's training set, never from the items it evaluates. For a task with one list of items this
    holds out ``pool_size`` of them as that training split: the ones whose SHA-256 of (seed, id or
    question) ranks lowest, so the split depends on the seed and the items, not on their order. An
    evaluation item whose question also appears in the pool is dropped, so the two share no question.
    Both lists keep the input order."""
    if not 0 < pool_size < len(examples):
        raise ConfigError(f"a demonstration pool of {pool_size} needs more than {pool_size} examples "
                          f"(got {len(examples)}); lower the pool size or pass more examples")

    def rank(example: FewShotExample) -> str:
        return hashlib.sha256(f"{seed}\x1f{example.id or example.question}".encode()).hexdigest()

    order = sorted(range(len(examples)), key=lambda i: rank(examples[i]))
    chosen = set(order[:pool_size])
    pool = [e for i, e in enumerate(examples) if i in chosen]
    questions = {e.question for e in pool}
    evaluated = [e for i, e in enumerate(examples) if i not in chosen and e.question not in questions]
    return pool, evaluated
