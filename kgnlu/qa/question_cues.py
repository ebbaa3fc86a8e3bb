"""The question's structure around its linked mentions, for any model: frame words, the expected
answer type, appositions.

:meth:`QuestionCues.annotate` marks each :class:`~kgnlu.qa.topics.TopicMention`:

* ``frame``: it names only a relation or the asked type (:mod:`.frame_words`);
* ``topic_type`` and a widened span: "the city of Lyon" is one topic mention typed "city" when one
  of Lyon's candidates is a city — the type word is a cue on the topic, not a hop, and candidates
  of another type are damped (``Lyon`` the city over a namesake of another kind);
* ``expected_type``: the type its masked question asks for ("which country", "who", "what animal").

:func:`~kgnlu.qa.reasoner.reason` then demotes frame mentions, adds the path-level type prior
(:meth:`path_type_logp`) and types the answers (:meth:`answer_type_logp`).
"""

from __future__ import annotations

import re

import numpy as np

from kgnlu.qa.frame_words import is_frame, relation_vocabulary
from kgnlu.qa.question import mask_span
from kgnlu.qa.topics import TopicMention
from kgnlu.qa.type_cues import apposition, expected_type, singular
from kgnlu.qa.type_match import MATCH, MISMATCH, TypeMatcher

VOCABULARY_PREFIXES = ("owl:", "rdf:", "rdfs:", "http://www.w3.org/2002/07/owl#",
                       "http://www.w3.org/1999/02/22-rdf-syntax-ns#", "http://www.w3.org/2000/01/rdf-schema#")
MIN_TYPE_SCORE = MISMATCH
_OF_OBJECT = re.compile(r"\b[A-Za-z]+\s+of\s+(?:the\s+|an?\s+)?$")  # floor of a type probability (log of it is the largest penalty)


class QuestionCues:
    def __init__(self, kg):
        from kgnlu.qa.graph_profile import GraphProfile

        self.kg = kg
        self.profile = GraphProfile(kg)
        self.matcher = TypeMatcher(kg, self.profile)
        self.vocabulary = relation_vocabulary(kg)
        self.compounds = frozenset(w for w in self.profile.kind_words if len(w.split()) == 2)
        self._path_types: dict[tuple[int, str], np.ndarray] = {}

    def annotate(self, text: str, mentions: list[TopicMention], placeholder: str, lexical=None) -> None:
        """Set each mention's cues; ``lexical`` (the linker's LexicalIndex) gives word rarity. A
        candidate that is one of the graph's predicates ("founded" linked to ex:founded) is dropped,
        and a mention left without candidates with it: a relation word is never the thing asked about."""
        whole = expected_type(text, self.compounds)
        for m in mentions:
            m.candidates = [(e, p) for e, p in m.candidates if not self.profile.is_predicate(e)]
        mentions[:] = [m for m in mentions if m.candidates]
        for m in mentions:
            m.frame = is_frame(m.surface, self.vocabulary, whole) or all(self.profile.is_schema(e)
                                                                          for e, _ in m.candidates)
            m.salience = salience(text, m.start, m.surface, lexical)
            app = apposition(text, m.start, m.end)
            if app is not None and self._type_topic(m, app.word):
                m.start = app.start  # "the city of Lyon" is the topic mention, typed "city"
        self._predicated_types(mentions)
        for m in mentions:
            m.expected_type = expected_type(mask_span(text, m.start, m.end, placeholder), self.compounds)

    def _type_topic(self, m: TopicMention, word: str) -> bool:
        """Type mention ``m`` with ``word`` when one of its candidates fits it: candidates of another
        type are damped. False (nothing changed) when none fits."""
        fits = [self.matcher.entity_match(e, word) for e, _ in m.candidates]
        if MATCH not in fits:
            return False
        m.topic_type = word
        m.candidates = sorted(((e, p if f == MATCH else p * MISMATCH)
                               for (e, p), f in zip(m.candidates, fits, strict=True)), key=lambda c: -c[1])
        return True

    def _predicated_types(self, mentions: list[TopicMention]) -> None:
        """A mention that is a type word of another mention ("Edinburgh is a **city** in what
        country?", "What kind of **tool** is a hammer?") is a cue on that mention, not a topic: it
        becomes a frame mention and the other is typed by it."""
        for m in mentions:
            if m.frame or len(m.surface.split()) > 2:
                continue
            word = singular(m.surface.lower()) if " " not in m.surface else m.surface.lower()
            for other in mentions:
                if other is m or (other.start < m.end and m.start < other.end):
                    continue
                if self._type_topic(other, word):
                    m.frame = True
                    break

    def vocabulary_terms(self, entities: np.ndarray) -> np.ndarray:
        """bool [n]: which entities are terms of the RDF/RDFS/OWL vocabularies (owl:Class, ...)."""
        ids = [self.kg.entity_id(int(e)) for e in entities.tolist()]
        return np.array([i.startswith(VOCABULARY_PREFIXES) for i in ids], dtype=bool)

    def path_type_logp(self, paths, word: str) -> np.ndarray:
        """float64 [P]: log P(path's answers fit ``word``), from its last step's answer kinds."""
        key = (id(paths), word)
        if key not in self._path_types:
            last = [p.symbols()[-1] for p in paths]
            fit = np.array([self.matcher.path_match(s, word) for s in last])
            self._path_types[key] = np.log(np.maximum(fit, MIN_TYPE_SCORE))
        return self._path_types[key]

    def answer_type_logp(self, candidates: np.ndarray, word: str) -> np.ndarray:
        """float64 [a]: log P(answer fits ``word``) per candidate entity."""
        return np.log(np.maximum(self.matcher.matches(candidates, word), MIN_TYPE_SCORE))


def salience(text: str, start: int, surface: str, lexical=None) -> float:
    """How much a mention looks like what a question is about: the rarity of its words among the
    graph's entity texts (IDF scaled to [0, 1]; words the texts never use count as rare), plus 1
    for a proper name (capitalised where a sentence does not start). "What was Picasso known as?":
    Picasso 2.0, known ~0.3."""
    from kgnlu.kg.linker.lexical import words

    score = 0.0
    if lexical is not None and len(lexical.idf):
        top = float(lexical.idf.max())
        ws = words(surface)
        if ws:
            idfs = [float(lexical.idf[lexical.word_index[w]]) if w in lexical.word_index else top for w in ws]
            score += max(idfs) / top
    before = text[:start].rstrip()
    sentence_start = not before or before[-1] in ".?!:\"'“‘("
    if surface[:1].isupper() and not sentence_start or (surface.isupper() and len(surface) > 1):
        score += 1.0
    after = text[start + len(surface):]
    if _OF_OBJECT.search(text[:start]) or after.startswith(("'s ", "’s ", "' ")):
        score += 1.0  # "the capital of X", "kinds of X", "X's neighbours": what the relation is about
    return score
