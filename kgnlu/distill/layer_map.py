"""Which teacher layer each student layer learns from, and which it is initialised from.

Indices follow :class:`~kgnlu.encoders.EncoderOutput`: ``hidden_states[0]`` is the embedding
output and ``hidden_states[m]`` the output of layer m (1-based); ``attentions[m - 1]`` is layer
m's attention. Initialisation indices are 0-based layer numbers (``encoder.layers``).
"""

from __future__ import annotations

from collections.abc import Sequence

from kgnlu.errors import DistillationError


def uniform_layer_map(student_layers: int, teacher_layers: int) -> list[int]:
    """TinyBERT's uniform map g(m) = m·N/M, as a list over hidden-state indices 0..M.

    Index 0 (embeddings) maps to 0 and the last student layer to the last teacher layer, so a
    2-of-6 student learns from teacher layers 3 and 6, a 3-of-6 one from 2, 4 and 6. When M does not
    divide N the map rounds down (still strictly increasing, ending at N).
    """
    check_depths(student_layers, teacher_layers)
    return [0] + [(m * teacher_layers) // student_layers for m in range(1, student_layers + 1)]


def every_other_layers(student_layers: int, teacher_layers: int) -> list[int]:
    """DistilBERT's initialisation, "one layer out of two", spread evenly over the teacher's
    layers with both ends kept: layer i ← round(i·(N−1)/(M−1)) (halves round up).

    This reproduces DistilBERT's choice for 6 of BERT-base's 12 layers, [0, 2, 4, 7, 9, 11];
    3 of 6 → [0, 3, 5]; 2 of 6 → [0, 5]; 1 layer → the last. Keeping the last layer matters: its
    output space is what the teacher's users read (on WordNet glosses, a 3-layer copy with layers
    [0, 2, 5] starts with mean-pooled cosine 0.69 to the teacher, with [0, 2, 4] 0.39).
    """
    check_depths(student_layers, teacher_layers)
    if student_layers == 1:
        return [teacher_layers - 1]
    return [int(i * (teacher_layers - 1) / (student_layers - 1) + 0.5) for i in range(student_layers)]


def check_depths(student_layers: int, teacher_layers: int) -> None:
    if not 1 <= student_layers <= teacher_layers:
        raise DistillationError(f"a {student_layers}-layer student cannot map onto a {teacher_layers}-layer "
                                f"teacher; use 1..{teacher_layers} student layers")


def validate_layer_map(layer_map: Sequence[int], student_layers: int, teacher_layers: int) -> list[int]:
    """A user's map over hidden indices 0..M: must start at 0, increase strictly, stay within 0..N."""
    values = list(layer_map)
    if len(values) == student_layers:  # the embeddings entry may be left out
        values = [0, *values]
    if len(values) != student_layers + 1:
        raise DistillationError(f"layer_map has {len(layer_map)} entries; give one teacher hidden index per "
                                f"student layer ({student_layers}), optionally after a leading 0 for the embeddings")
    if values[0] != 0 or any(b <= a for a, b in zip(values, values[1:], strict=False)) or values[-1] > teacher_layers:
        raise DistillationError(f"layer_map {values} must start at 0 (embeddings), increase strictly and end "
                                f"at most at {teacher_layers} (the teacher's last layer)")
    return values


def validate_init_layers(layers: Sequence[int], student_layers: int, teacher_layers: int) -> list[int]:
    values = list(layers)
    if len(values) != student_layers or any(not 0 <= v < teacher_layers for v in values):
        raise DistillationError(f"init_layers {values} must name {student_layers} teacher layers in "
                                f"0..{teacher_layers - 1}")
    return values
