"""Text processing below the graph: tokens and parts of speech (a tagger kgnlu trains from WordNet)."""

from kgnlu.text.tagger import PerceptronTagger, load_tagger
from kgnlu.text.tokens import tokenize

__all__ = ["PerceptronTagger", "load_tagger", "tokenize"]
