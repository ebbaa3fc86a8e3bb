"""The default QA model for ``make run``: trained once on the default graph, reused after.

    qa = ensure_default_qa(graph_path, home)   # loads $KGNLU_HOME/qa/models/default, or trains it

The QA data lives at ``$KGNLU_HOME/qa/default`` (``kgnlu data make-qa``; generated here if
missing) and the model beside it at ``$KGNLU_HOME/qa/models/default``. A model trained on another
version of the graph is retrained.
"""

from __future__ import annotations

import logging
from pathlib import Path

from kgnlu.errors import QAError

log = logging.getLogger(__name__)

# As configs/qa-default.yaml: QAConfig's own defaults. A cut to 12,000 training questions, 2,000 topic and
# 1,500 GNN examples saved ~2 minutes of `make run` but cost 7.6 points of paraphrase_test hits@1.
DEFAULT_TRAINING = {"max_train_questions": 20000, "topic_examples": 3000, "gnn_examples": 2000}


def default_data_dir(home: Path | None = None) -> Path:
    from kgnlu.kg.build import kgnlu_home

    return Path(home or kgnlu_home()) / "qa" / "default"


def default_model_dir(home: Path | None = None) -> Path:
    from kgnlu.kg.build import kgnlu_home

    return Path(home or kgnlu_home()) / "qa" / "models" / "default"


def ensure_default_qa(graph_path: str | Path, home: str | Path | None = None, *, linker=None,
                      report=print):
    """The default KGQA over ``graph_path``: loaded when ``home``'s model matches the graph,
    else trained (data generated first when missing) and saved there."""
    from kgnlu.kg import KnowledgeGraph
    from kgnlu.qa.api import KGQA
    from kgnlu.qa.config import QAConfig
    from kgnlu.qa.storage import CONFIG_FILE, graph_checksum, read_meta

    home = Path(home).expanduser() if home is not None else None
    kg = KnowledgeGraph.load(graph_path, verify=False)
    model_dir, data_dir = default_model_dir(home), default_data_dir(home)
    if (model_dir / CONFIG_FILE).is_file():
        try:
            if read_meta(model_dir)["graph"]["checksum"] == graph_checksum(kg):
                return KGQA.load(model_dir, graph=kg, linker=linker)
            report(f"qa: {model_dir} was trained on another version of the graph; retraining")
        except QAError as err:
            report(f"qa: {err}; retraining")
    if not (data_dir / "train.jsonl").is_file():
        from kgnlu.qa.data.files import write_dataset
        from kgnlu.qa.data.generate import MakeQAConfig, generate_questions

        report(f"qa: generating QA data from {kg.path} into {data_dir} ...")
        write_dataset(generate_questions(kg, MakeQAConfig()), data_dir)
    report(f"qa: training the default QA model into {model_dir} (a few minutes) ...")
    qa = KGQA(kg, linker, config=QAConfig(**DEFAULT_TRAINING))
    qa.fit(data_dir, out=model_dir, log=report)
    return qa
