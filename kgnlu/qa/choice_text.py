"""Text helpers shared by every multiple-choice scorer: a choice's name and the question's context.

A choice is written as people write answers ("a shovel", "gloves", "the hospital"): the name is
what is left without the article and end punctuation. The context is the question without the
choices' own words, so a question that lists its choices ("a shovel or an excavator?") does not
count them as evidence for themselves.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

ARTICLES = re.compile(r"^(a|an|the|some)\s+", re.IGNORECASE)


def choice_name(choice: str) -> str:
    """ "An excavator." → "excavator"."""
    return ARTICLES.sub("", choice.strip()).strip(" .?!,;:")


def choice_context(question: str, choices: Sequence[str]) -> str:
    """``question`` with each choice (as written, then its bare name) removed as whole words."""
    context = question
    for c in choices:
        for form in dict.fromkeys((c.strip(), choice_name(c))):
            if form:
                context = re.sub(rf"(?<!\w){re.escape(form)}(?!\w)", " ", context, flags=re.IGNORECASE)
    return re.sub(r"\s+", " ", context).strip()
