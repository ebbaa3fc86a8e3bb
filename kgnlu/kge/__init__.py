"""Knowledge-graph embeddings: TransE, DistMult, ComplEx, RotatE; sLCWA and 1-N training;
filtered rank evaluation; storage beside the graph; faiss nearest neighbours."""

from __future__ import annotations

from kgnlu.kge.data import KGEData
from kgnlu.kge.evaluation import EvalResult, evaluate
from kgnlu.kge.losses import LossConfig
from kgnlu.kge.models import MODELS, KGEModel, ModelConfig, build_model
from kgnlu.kge.sampling import SamplingConfig
from kgnlu.kge.training import KGETrainResult, TrainConfig, train

__all__ = ["MODELS", "EvalResult", "KGEData", "KGEModel", "KGETrainResult", "LossConfig", "ModelConfig",
           "SamplingConfig", "TrainConfig", "build_model", "evaluate", "train"]
