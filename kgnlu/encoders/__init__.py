"""The transformer encoder in every seed shape, its pretraining heads and Hugging Face interop.

Imports only torch and safetensors (transformers is needed only by tests and benchmarks), so a
GPU machine with just torch can train it.
"""

from kgnlu.encoders.config import EncoderConfig
from kgnlu.encoders.encoder import Encoder, Pooler
from kgnlu.encoders.heads import (
    HEADS,
    CausalLMHead,
    EntityHead,
    MaskedLMHead,
    NextSentenceHead,
    ReplacedTokenHead,
    SentenceOrderHead,
)
from kgnlu.encoders.outputs import EncoderOutput, HeadOutput
from kgnlu.encoders.pretrained import load_minilm, minilm_path

__all__ = [
    "HEADS", "CausalLMHead", "Encoder", "EncoderConfig", "EncoderOutput", "EntityHead", "HeadOutput",
    "MaskedLMHead", "NextSentenceHead", "Pooler", "ReplacedTokenHead", "SentenceOrderHead",
    "load_minilm", "minilm_path",
]
