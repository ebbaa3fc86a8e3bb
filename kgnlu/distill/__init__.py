"""Light-weight encoders by distillation: DistilBERT- and TinyBERT-style, from any kgnlu encoder.

    kgnlu distill --config configs/distill-mlm-head.yaml   # MiniLM has no MLM head: fit one, teacher frozen
    kgnlu distill --config configs/distill-3layer.yaml     # DistilBERT-style 3-layer student
    kgnlu distill --config configs/distill-2layer.yaml     # TinyBERT-style 2-layer copy (earlier, not the paper's recipe)
    kgnlu distill --config configs/distill-tinybert-4layer.yaml  # TinyBERT as the paper: from scratch, 2-step task stage

One concept per file: :mod:`.config` (the job), :mod:`.layer_map`, :mod:`.student` (building,
initialising, projecting, saving), :mod:`.kg_student` (students of KG-fused teachers),
:mod:`.losses`, :mod:`.scores` (pre-softmax attention scores), :mod:`.mlm_head`, :mod:`.distilbert`,
:mod:`.tinybert`, :mod:`.task` (supersense task-specific stage), :mod:`.augmentation` (TinyBERT's
data augmentation), :mod:`.teacher` (loading), :mod:`.verdict` (goal verdicts: strict retention,
speed noise), :mod:`.run`.
"""

from kgnlu.distill.config import DistillConfig, StudentSpec, TaskSpec
from kgnlu.distill.distilbert import DistilBertDistiller
from kgnlu.distill.layer_map import every_other_layers, uniform_layer_map
from kgnlu.distill.student import WidthProjection, build_student, load_student, save_student
from kgnlu.distill.tinybert import PredictionDistiller, TinyBertDistiller

__all__ = ["DistilBertDistiller", "DistillConfig", "PredictionDistiller", "StudentSpec", "TaskSpec",
           "TinyBertDistiller", "WidthProjection", "build_student", "every_other_layers", "load_student",
           "save_student", "uniform_layer_map"]
