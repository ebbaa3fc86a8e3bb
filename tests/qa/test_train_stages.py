"""train_qa in stages: it returns the settings it chose and leaves the caller's config alone."""

from __future__ import annotations

import copy
from pathlib import Path

from tests.qa.conftest import TINY_QA


def test_train_qa_returns_chosen_settings_and_leaves_the_callers_config(qa_graph, qa_data, qa_linker,
                                                                       tiny_text_model):
    from kgnlu.qa import KGQA, QAConfig
    from kgnlu.qa.train import train_qa

    encoder, tokenizer = tiny_text_model
    config = QAConfig(**{**TINY_QA, "ensemble": 1, "epochs": 2, "topic_examples": 40, "gnn_examples": 40,
                         "gnn_epochs": 1, "gnn_weight": 1.0})
    before = copy.deepcopy(config)
    qa = KGQA(qa_graph, qa_linker, encoder=encoder, tokenizer=tokenizer, config=config)
    training = train_qa(qa, Path(qa_data), config, log=lambda s: None)
    assert config == before  # not mutated, whatever the dev checks chose
    assert training.config is not config and training.config is training.model.config
    assert (training.config.gnn_weight != 0.0) == training.report["dev"]["gnn_used"]
    assert training.report["train_questions"] > 0 and training.report["path_scorer"]["members"] == 1
    # KGQA.fit adopts the chosen settings; the config it was built with stays as given
    report = qa.fit(qa_data, log=lambda s: None)
    assert config == before and qa.config is qa.model.config and set(report) >= {"dev", "seconds"}
