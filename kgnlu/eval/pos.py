"""Part-of-speech tagging measured on the hand-written, hand-tagged set
(``kgnlu/eval/natural/pos_tagged.jsonl``; dev for tuning, test once per release).

    report = evaluate_tagging(load_tagger(), read_tagged("dev"))
    report["accuracy"], report["noun_verb_accuracy"], report["tokens_per_second"]

Beside kgnlu's tagger, a lexicon baseline with no context: a function word's usual tag, else the
part of speech with most WordNet senses, else NOUN (PROPN when capitalised past the first token).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

from kgnlu.errors import ParseError, UnknownNameError

TAGGED_SET = Path(__file__).parent / "natural" / "pos_tagged.jsonl"
SPLITS = ("dev", "test")


def read_tagged(split: str, path: Path = TAGGED_SET) -> list[tuple[list[str], list[str]]]:
    """(tokens, tags) of every sentence of ``split``; a malformed line is an E010 naming it."""
    from kgnlu.text.tagger import TAGS

    if split not in SPLITS:
        raise UnknownNameError("split", split, SPLITS)
    from kgnlu.io import iter_json_lines

    out = []
    expected = "a JSON object with tokens, tags and split"
    for n, rec in iter_json_lines(path, expected):
        try:
            tokens, tags = rec["tokens"], rec["tags"]
            ok = len(tokens) == len(tags) and all(t in TAGS for t in tags) and rec["split"] in SPLITS
        except (KeyError, TypeError) as err:
            raise ParseError(path, n, None, f"{expected} ({err})") from None
        if not ok:
            raise ParseError(path, n, None, "as many tags as tokens, each a Universal POS tag, and split dev or test")
        if rec["split"] == split:
            out.append((tokens, tags))
    return out


def lexicon_baseline(lookup=None) -> Callable[[Sequence[str]], list[str]]:
    """The no-context baseline tagger (see the module docstring)."""
    from kgnlu.kg.sources.wordnet_lookup import WordNetLookup
    from kgnlu.text.closed_class import CLOSED

    lookup = lookup or WordNetLookup.open()
    upos = {"noun": "NOUN", "verb": "VERB", "adj": "ADJ", "adv": "ADV"}

    def tag_one(i: int, tok: str) -> str:
        low = tok.lower()
        if not any(c.isalnum() for c in tok):
            return "PUNCT"
        if tok.replace(",", "").replace(".", "").isdigit():
            return "NUM"
        if low in CLOSED:
            return CLOSED[low]
        if i > 0 and tok[:1].isupper():
            return "PROPN"
        senses = {p: len(lookup.senses(lemma, p)) for p in upos if lookup is not None
                  for lemma in lookup.lemmas(low, p)[:1]}
        return upos[max(senses, key=senses.get)] if senses else "NOUN"

    return lambda tokens: [tag_one(i, t) for i, t in enumerate(tokens)]


def evaluate_tagging(tag: Callable[[Sequence[str]], list[str]], sentences: list[tuple[list[str], list[str]]],
                     repeats: int = 3) -> dict:
    """Token accuracy, accuracy on the tokens tagged NOUN or VERB by hand, per-tag recall, the
    commonest confusions, and tokens per second (best of ``repeats`` passes, one thread)."""
    predicted = [tag(tokens) for tokens, _ in sentences]
    tokens = sum(len(t) for t, _ in sentences)
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        for toks, _ in sentences:
            tag(toks)
        best = min(best, time.perf_counter() - start)
    gold_counts: Counter[str] = Counter()
    right_counts: Counter[str] = Counter()
    confusions: Counter[tuple[str, str]] = Counter()
    for (_, gold), pred in zip(sentences, predicted, strict=True):
        for g, p in zip(gold, pred, strict=True):
            gold_counts[g] += 1
            right_counts[g] += g == p
            if g != p:
                confusions[(g, p)] += 1
    nv = gold_counts["NOUN"] + gold_counts["VERB"]
    return {
        "sentences": len(sentences), "tokens": tokens,
        "accuracy": sum(right_counts.values()) / max(tokens, 1),
        "noun_verb_accuracy": (right_counts["NOUN"] + right_counts["VERB"]) / max(nv, 1),
        "per_tag": {t: {"gold": gold_counts[t], "recall": right_counts[t] / gold_counts[t]} for t in sorted(gold_counts)},
        "confusions": [{"gold": g, "predicted": p, "count": c} for (g, p), c in confusions.most_common(10)],
        "tokens_per_second": round(tokens / best, 1) if best > 0 else None,
    }


def markdown_report(reports: dict[str, dict], split: str) -> str:
    lines = [f"# Part-of-speech tagging, hand-tagged set ({split} split)", "",
             "| tagger | sentences | tokens | accuracy | NOUN/VERB tokens accuracy | tokens/s |", "|---|---|---|---|---|---|"]
    for name, r in reports.items():
        lines.append(f"| {name} | {r['sentences']} | {r['tokens']} | {r['accuracy']:.3f} | "
                     f"{r['noun_verb_accuracy']:.3f} | {r['tokens_per_second']:,.0f} |")
    for name, r in reports.items():
        lines += ["", f"{name}: commonest confusions (gold → predicted): "
                  + ", ".join(f"{c['gold']}→{c['predicted']} {c['count']}" for c in r["confusions"][:6])]
    return "\n".join(lines) + "\n"
