"""The topic head: which linked mention is the question's topic (it reads the masked question,
the mention's own embedding and the link score)."""

import json
from dataclasses import replace

import numpy as np
import pytest
import torch

from kgnlu.errors import QAError
from kgnlu.qa import KGQA


def test_prepare_embeds_each_mention_for_the_topic_head(trained):
    qa, _, _ = trained
    assert qa.model.config.topic_surface  # the default
    mentions, vectors = qa.prepare(["Which continent is the city Lyon in?", "Name a city in Ghana."])
    for ms, vs in zip(mentions, vectors, strict=True):
        assert ms and len(vs) == len(ms)
        for m in ms:
            np.testing.assert_allclose(m.surface_vector, qa.questions.encode([m.surface])[0], atol=1e-5)


def test_topic_logits_depend_on_the_mention_embedding(trained):
    qa, _, _ = trained
    scorer = qa.model.scorer
    torch.manual_seed(0)
    q = torch.nn.functional.normalize(torch.randn(4, qa.model.question_dim), dim=-1)
    link = torch.tensor([[0.9, -0.1]] * 4)
    a = torch.nn.functional.normalize(torch.randn(4, qa.model.question_dim), dim=-1)
    b = torch.nn.functional.normalize(torch.randn(4, qa.model.question_dim), dim=-1)
    with torch.no_grad():
        assert not torch.allclose(scorer.topic_logits(q, link, a), scorer.topic_logits(q, link, b), atol=1e-4)
        with pytest.raises(QAError, match="surface"):
            scorer.topic_logits(q, link)


def test_models_saved_before_mention_embeddings_still_load_and_answer(trained, qa_graph, qa_linker, tmp_path):
    from kgnlu.qa.model import QAModel
    from kgnlu.qa.storage import load_model, save_model

    qa, _, _ = trained
    old_config = replace(qa.model.config, topic_surface=False)
    legacy = QAModel(old_config, qa.model.paths, qa.model.relation_ids, qa.model.kinds,
                     qa.model.scorer.members[0].relation_text[:-1])
    h = qa.model.question_dim
    state = qa.model.state_dict()
    for key in [k for k in state if k.endswith(".topic_head.0.weight")]:  # (64, 2H + 2) → (64, H + 2):
        state[key] = torch.cat([state[key][:, :h], state[key][:, 2 * h:]], dim=1)  # drop the mention columns
    legacy.load_state_dict(state, strict=True)
    folder = save_model(legacy.eval(), tmp_path / "legacy", qa_graph, {"kind": "minilm"})
    meta = json.loads((folder / "qa.json").read_text())
    del meta["config"]["topic_surface"]  # as written before the option existed
    (folder / "qa.json").write_text(json.dumps(meta))

    loaded, _ = load_model(folder, qa_graph)
    assert loaded.config.topic_surface is False
    old_qa = KGQA(qa_graph, qa_linker, qa.encoder, qa.tokenizer, model=loaded)
    mentions, _ = old_qa.prepare(["Name a city in Ghana."])
    assert all(m.surface_vector is None for m in mentions[0])  # nothing embedded that it does not read
    answers = old_qa.answer("Name a city in Ghana.")
    assert answers and answers.topic["mention"] == "Ghana"
