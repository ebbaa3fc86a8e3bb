"""Students of a KG-fused teacher (:class:`kgnlu.fusion.KGEncoder`): keep or drop the injection layers.

The student's plain encoder is built from the teacher's inner encoder (:func:`build_student`).
With ``keep_injections`` each teacher injection "after the first k layers" moves to the student
position that sees the same depth of the teacher: the number of student layers standing for
teacher layers below k (their copied layer when initialised from the teacher, else the layer
map). Injection weights are copied when the widths match, and the student shares the teacher's
entity table (frozen as in the teacher, or trainable if the teacher's was). Without
``keep_injections`` the student is a plain Encoder: it learns from the fused teacher's outputs
but needs no entity inputs at inference.
"""

from __future__ import annotations

import copy

from torch import nn

from kgnlu.distill.config import StudentSpec
from kgnlu.distill.layer_map import uniform_layer_map
from kgnlu.distill.student import build_student
from kgnlu.errors import DistillationError


def injection_positions(inject: dict[int, str], student_layers: int, teacher_layers: int,
                        copied: list[int] | None) -> dict[int, str]:
    """Teacher {k: kind} → student {k': kind}, k' = how many student layers stand below teacher depth k.

    A student layer copied from teacher layer j (0-based) stands for depth j + 1; without copies,
    student layer m stands for depth g(m) of the uniform map.
    """
    depths = ([j + 1 for j in copied] if copied is not None
              else uniform_layer_map(student_layers, teacher_layers)[1:])
    moved: dict[int, str] = {}
    for k, kind in sorted(inject.items()):
        position = sum(1 for depth in depths if depth <= k)
        if position in moved:
            raise DistillationError(f"teacher injections at layers {sorted(inject)} land on the same student "
                                    f"position {position}; give student.init_layers that separate them or drop "
                                    "the injections (student.keep_injections: false)")
        moved[position] = kind
    return moved


def build_kg_student(teacher: nn.Module, spec: StudentSpec) -> tuple[nn.Module, list[int] | None, dict[int, str]]:
    """(student, copied teacher layers, student injection map) for a KGEncoder teacher."""
    from kgnlu.fusion.kg_encoder import KGEncoder

    inner, copied = build_student(teacher.encoder, spec)
    if not spec.keep_injections:
        return inner, copied, {}
    moved = injection_positions(teacher.inject, spec.num_layers, teacher.config.num_layers, copied)
    source = teacher.entity_source["path"] if teacher.entity_source else teacher.entity_embeddings.weight
    student = KGEncoder(inner, source, moved, freeze_entities=teacher.freeze_entities,
                        injection_options=teacher.injection_options)
    if inner.config.hidden_size == teacher.config.hidden_size:
        by_kind_position = dict(zip(sorted(moved), sorted(teacher.inject), strict=True))
        for position, k in by_kind_position.items():
            student.injections[str(position)].load_state_dict(copy.deepcopy(teacher.injections[str(k)].state_dict()))
    if not teacher.freeze_entities:
        student.entity_embeddings.weight.data.copy_(teacher.entity_embeddings.weight.data)
    return student, copied, moved
