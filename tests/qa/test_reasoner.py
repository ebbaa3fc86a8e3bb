"""The reasoner never spends a topic's walks on paths that cannot leave it."""

from __future__ import annotations

import numpy as np

from kgnlu.qa.paths import RelationPath
from kgnlu.qa.reasoner import walkable_first_steps
from kgnlu.qa.retrieval import execute


def test_walkable_first_steps_match_a_one_step_walk(trained, qa_graph):
    qa, _, _ = trained
    paths = qa.model.paths
    entities = list(range(qa_graph.num_entities))
    walkable = walkable_first_steps(qa_graph, entities, paths)
    assert walkable.shape == (len(entities), len(paths))
    assert walkable.any() and not walkable.all()
    for e in entities:
        for p, path in enumerate(paths):
            first = RelationPath(path.steps[:1])
            reached = len(execute(qa_graph.walker, e, first).trace[-1].nodes) > 0
            assert bool(walkable[e, p]) == reached, (qa_graph.entity_id(e), path.describe(qa_graph))


def test_every_walked_combination_starts_with_a_walkable_step(trained, qa_graph):
    qa, _, _ = trained
    from kgnlu.qa.reasoner import reason

    questions = ["What is the capital of France?", "Which countries border Spain?", "What continent is Paris in?"]
    mentions, vectors = qa.prepare(questions)
    for ms, vs in zip(mentions, vectors, strict=True):
        reasoning = reason(qa.model, qa_graph, ms, vs)
        assert reasoning.combos
        for combo in reasoning.combos:
            first = RelationPath(qa.model.paths[combo.path].steps[:1])
            assert len(execute(qa_graph.walker, combo.entity, first).trace[-1].nodes) > 0
            assert np.isfinite(combo.joint)
