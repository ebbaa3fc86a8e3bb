"""A UD-style English tokenizer: punctuation split off, contractions split as UD English does
("don't" → "do" "n't", "it's" → "it" "'s"), hyphenated words and numbers ("1,000", "3.5") kept whole.

    tokenize("We don't drive 3.5 km.")   # ["We", "do", "n't", "drive", "3.5", "km", "."]
"""

from __future__ import annotations

import re

# order matters: numbers before words, words (with inner hyphens/apostrophes) before punctuation
_TOKEN = re.compile(r"""
    \d+(?:[.,:]\d+)*            # 3.5  1,000  10:30
  | [^\W\d_]+(?:[-'’][^\W\d_]+)*(?:[-'’]\d+)?   # words, well-known, o'clock
  | \S                          # any other single character
""", re.VERBOSE)
_CLITICS = ("n't", "'s", "'re", "'ve", "'ll", "'d", "'m")


def tokenize(text: str) -> list[str]:
    out: list[str] = []
    for m in _TOKEN.finditer(text):
        out.extend(_split_clitic(m.group().replace("’", "'")))
    return out


def _split_clitic(word: str) -> list[str]:
    low = word.lower()
    for clitic in _CLITICS:
        if low.endswith(clitic) and len(word) > len(clitic):
            head = word[: -len(clitic)]
            if clitic == "n't" and low in ("can't", "won't"):
                head = word[:2] if low == "can't" else word[:2]  # ca n't, wo n't (UD)
            return [head, word[len(head):]]
    return [word]
