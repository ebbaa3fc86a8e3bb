"""Few-shot mode: KGQA's retrieved graph facts in a GPT-3-style prompt, choices scored by a causal
LM's length-normalised log-likelihood (prompt layout and scoring: :mod:`kgnlu.qa.fewshot_prompts`,
:mod:`kgnlu.qa.fewshot`)."""

from __future__ import annotations

from collections.abc import Sequence

from kgnlu.qa.question import clean_question

Triple = tuple[str, str, str]


def retrieved_facts(qa, question: str, limit: int = 8) -> list[Triple]:
    """(head, relation, tail) label triples: the evidence of the best answers when a model is
    trained, else the edges at the question's linked entities. Labels only, never ids or markup."""
    kg, facts = qa.kg, []
    if qa.model is not None:
        for answer in qa.answer(question, k=3):
            for path in answer.evidence:
                facts += [(t.head_label, t.relation_label, t.tail_label) for t in path.triples]
    if not facts:
        text = clean_question(question, qa.config.max_question_chars)
        for link in qa.linker.link(text)[:3]:
            e = kg.index_of(link.entity)
            for step in kg.walker.neighbors(e, "both")[:limit]:
                facts.append((kg.entity_label(step.head), kg.relation_label(step.relation), kg.entity_label(step.tail)))
    return list(dict.fromkeys(facts))[:limit]


def fewshot_answer(qa, scorer, question: str, choices: Sequence[str], demos: Sequence = (),
                   instruction: str = "", with_facts: bool = True) -> dict:
    """Zero-shot (no ``demos``), one-shot or few-shot: the prompt, the facts it holds, a score per
    choice (mean log-probability per token) and the best choice."""
    from kgnlu.qa.fewshot import lm_choice_scores
    from kgnlu.qa.fewshot_prompts import DEFAULT_INSTRUCTION, build_prompt

    facts = retrieved_facts(qa, question) if with_facts else []
    prompt = build_prompt(instruction or DEFAULT_INSTRUCTION, list(demos), question, facts=facts)
    scores = lm_choice_scores(scorer, prompt, list(choices), normalize="length")
    best = max(range(len(scores)), key=lambda i: (scores[i], -i)) if scores else None
    return {"question": question, "choices": list(choices), "scores": scores,
            "answer": None if best is None else list(choices)[best], "facts": facts, "prompt": prompt,
            "shots": len(demos)}
