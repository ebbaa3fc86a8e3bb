"""KGQA end to end on the fixture: training, answers with evidence, bad input, save/load,
multiple choice. Gold answers come from the fixture data files (walked by the fixture itself)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from kgnlu.errors import QAError
from kgnlu.qa import KGQA, Answer
from kgnlu.qa.api import NO_ENTITY
from tests.qa.qa_graph import ext


def _split(qa_data, name):
    return [json.loads(line) for line in (qa_data / f"{name}.jsonl").read_text().splitlines()]


def _hits1(qa, rows):
    results = qa.answer_batch([r["question"] for r in rows], k=1)
    return np.mean([bool(res) and res[0].entity in r["answers"] for r, res in zip(rows, results, strict=True)])


def test_training_lowers_the_loss_and_reaches_high_hits(trained, qa_data):
    qa, report, _ = trained
    scorer = report["path_scorer"]
    assert scorer["loss_start"] > 2.0  # about log(#paths) = log(17) untrained
    assert scorer["path_loss_end"] < 0.3 * scorer["loss_start"]
    assert scorer["path_accuracy_end"] > 0.95
    test = _split(qa_data, "test")
    by_hops = {h: [r for r in test if r["hops"] == h] for h in (1, 2, 3)}
    for hops, rows in by_hops.items():
        assert rows, hops
        assert _hits1(qa, rows) >= 0.9, hops


def test_untrained_kgqa_says_how_to_train(qa_graph, qa_linker, tiny_text_model):
    encoder, tokenizer = tiny_text_model
    qa = KGQA(qa_graph, qa_linker, encoder=encoder, tokenizer=tokenizer)
    with pytest.raises(QAError, match="fit"):
        qa.answer("What is the capital of France?")


def test_custom_encoder_needs_its_tokenizer(qa_graph, qa_linker, tiny_text_model):
    with pytest.raises(QAError, match="tokenizer"):
        KGQA(qa_graph, qa_linker, encoder=tiny_text_model[0])


def test_answers_carry_evidence_chaining_topic_to_answer(trained, qa_graph):
    qa, _, _ = trained
    kg = qa_graph
    result = qa.answer("Which continent is the city Kyoto in?", k=3)
    assert result.reason is None
    assert result.topic["entity"] == ext("Kyoto")
    assert isinstance(result[0], Answer) and result[0].entity == ext("Asia")
    assert [a.score for a in result] == sorted((a.score for a in result), reverse=True)
    stored = kg.external_triples()
    for answer in result:
        assert answer.evidence
        for path in answer.evidence:
            node = result.topic["entity"]
            for t in path.triples:
                assert (t.head, t.relation, t.tail) in stored
                assert t.head_label == kg.entity_label(kg.index_of(t.head))
                src, dst = (t.head, t.tail) if t.forward else (t.tail, t.head)
                assert src == node
                node = dst
            assert node == answer.entity
    top = result[0].evidence[0]
    assert top.relations == ("gnrel:country", "gnrel:continent")
    # relations without an rdfs:label read as their local name (KnowledgeGraph.relation_label)
    assert top.text == "Kyoto --country--> Japan; Japan --continent--> Asia"


def test_batch_equals_single_answers(trained):
    qa, _, _ = trained
    questions = ["What is the capital of Kenya?", "Which country is Osaka in?", "zzz qqq"]
    batch = qa.answer_batch(questions, k=2)
    for q, b in zip(questions, batch, strict=True):
        single = qa.answer(q, k=2)
        assert [(a.entity, round(a.score, 5)) for a in single] == [(a.entity, round(a.score, 5)) for a in b]
        assert single.reason == b.reason


def test_no_linkable_entity_gives_no_answers_and_a_reason(trained):
    qa, _, _ = trained
    result = qa.answer("What is the meaning of this?")
    assert list(result) == [] and result.reason == NO_ENTITY
    assert result.to_json() == {"question": "What is the meaning of this?", "answers": [], "reason": NO_ENTITY}


def test_very_long_question_is_refused_with_the_limit(trained):
    qa, _, _ = trained
    long_q = "What is the capital of France? " + "blah " * 50_000
    with pytest.raises(QAError) as err:  # a cut question would be answered as if it were the one asked
        qa.answer(long_q)
    assert err.value.code == "E090" and f"{qa.config.max_question_chars:,}" in str(err.value)
    at_limit = "What is the capital of France?".ljust(qa.config.max_question_chars)
    assert qa.answer(at_limit).topic["entity"] == ext("France")  # up to the limit answers as before


@pytest.mark.parametrize("injection", [
    'SELECT ?x WHERE { ?x ?p ?o } ; DROP ALL ; INSERT DATA { <a> <b> <c> }',
    '{topic} {{relations}} }} UNION {{ ?s ?p ?o',
    '" . ?s ?p ?o . FILTER(true) #',
])
def test_query_and_template_syntax_is_only_text(trained, qa_graph, injection):
    qa, _, _ = trained
    kg = qa_graph
    before = (kg.num_triples, json.dumps(kg.manifest, sort_keys=True))
    plain = qa.answer("What is the capital of Japan?", k=3)
    alone = qa.answer(injection)
    assert list(alone) == [] and alone.reason == NO_ENTITY
    mixed = qa.answer(f"What is the capital of Japan? {injection}", k=3)
    assert mixed.topic["entity"] == plain.topic["entity"] == ext("Japan")
    assert mixed[0].entity == plain[0].entity == ext("Tokyo")
    assert (kg.num_triples, json.dumps(kg.manifest, sort_keys=True)) == before


def test_save_load_round_trip_gives_identical_answers(trained, qa_graph, qa_linker):
    qa, report, folder = trained
    loaded = KGQA.load(folder, graph=qa_graph, linker=qa_linker)
    meta = json.loads((folder / "qa.json").read_text())
    assert meta["training"]["train_questions"] == report["train_questions"]
    assert (folder / "model.safetensors").is_file() and (folder / "encoder").is_dir()
    questions = ["Which continent is the city Lyon in?", "Name a city in Ghana.",
                 "What is the capital of a country bordering the country of Kano?"]
    for a, b in zip(qa.answer_batch(questions), loaded.answer_batch(questions), strict=True):
        assert [x.to_json() for x in a] == [x.to_json() for x in b]


def test_zero_shot_prototypes_round_trip_and_old_models_still_load(trained, qa_graph, tmp_path):
    from dataclasses import replace

    from safetensors.torch import load_file, save_file

    from kgnlu.qa.model import QAModel
    from kgnlu.qa.storage import load_model, save_model

    qa, _, _ = trained
    old = qa.model
    assert old.scorer.path_text is None  # the fixture trains with the expert off (the default)
    torch.manual_seed(0)
    prototypes = torch.nn.functional.normalize(torch.randn(len(old.paths), old.question_dim), dim=-1)
    new = QAModel(replace(old.config, path_text_scale=60.0), old.paths, old.relation_ids, old.kinds,
                  old.scorer.members[0].relation_text[:-1], prototypes)
    new.load_state_dict(old.state_dict(), strict=False)  # the same members, plus the prototypes
    folder = save_model(new.eval(), tmp_path / "new", qa_graph, {"kind": "minilm"})
    loaded, _ = load_model(folder, qa_graph)
    assert torch.equal(loaded.scorer.path_text, prototypes) and loaded.scorer.path_text_scale == 60.0
    q = torch.nn.functional.normalize(torch.randn(3, old.question_dim), dim=-1)
    kinds = torch.tensor([0, 1, 2])
    with torch.no_grad():
        mixed = loaded.scorer.path_log_probs(q, kinds)
        assert torch.allclose(mixed, new.scorer.path_log_probs(q, kinds), atol=1e-6)
        assert not torch.allclose(mixed, old.scorer.path_log_probs(q, kinds), atol=1e-3)
    # a model saved before the expert existed: no prototypes, none of the later config keys (a
    # retired one, path_text_limit, still there) → the members' mean log-probabilities, as it scored
    state = load_file(str(folder / "model.safetensors"))
    del state["scorer.path_text"]
    save_file(state, str(folder / "model.safetensors"))
    (folder / "checksums.json").unlink()  # nor sha256 listings (kgnlu.integrity)
    meta = json.loads((folder / "qa.json").read_text())
    for key in ("path_text_scale", "augment_repeat", "mlp_weight", "hop_penalty", "side_weight"):
        del meta["config"][key]
    meta["config"]["path_text_limit"] = 48
    (folder / "qa.json").write_text(json.dumps(meta))
    legacy, _ = load_model(folder, qa_graph)
    assert legacy.scorer.path_text is None and not legacy.scorer.has_expert
    with torch.no_grad():
        members = torch.stack([torch.log_softmax(m.path_logits(m.question_features(q, kinds)), dim=-1)
                               for m in old.scorer.members]).mean(0)
        assert torch.allclose(legacy.scorer.path_log_probs(q, kinds), members, atol=1e-6)


def test_loading_against_another_graph_is_refused(trained, tmp_path):
    from tests.kg.linker_graph import build_fixture_graph

    _, _, folder = trained
    other = build_fixture_graph(tmp_path / "other")
    with pytest.raises(QAError, match="trained on graph"):
        KGQA.load(folder, graph=other)


def test_not_a_model_folder_is_a_clear_error(tmp_path, qa_graph):
    with pytest.raises(QAError, match="kgnlu qa train"):
        KGQA.load(tmp_path, graph=qa_graph)


@pytest.mark.parametrize(("purpose", "expected"), [
    ("to plant flowers", "shovel"),
    ("to lay the foundations of a house", "excavator"),
])
def test_multiple_choice_uses_graph_knowledge(trained, purpose, expected):
    qa, _, _ = trained
    question = f"We dug the ground {purpose}. Which tool did we need: a shovel or an excavator?"
    result = qa.choose(question, ["a shovel", "an excavator"])
    assert result.best.choice.endswith(expected)
    assert sum(c.score for c in result.choices) == pytest.approx(1.0)
    best = result.best
    assert best.entity == f"wn:{expected}"
    assert best.evidence and all(t.head and t.tail for p in best.evidence for t in p.triples)


def test_multiple_choice_with_unknown_choices_says_why(trained):
    qa, _, _ = trained
    result = qa.choose("Which one?", ["xyzzy", "plugh"])
    assert result.reason == "no choice names an entity of the graph"


def test_evidence_subgraph_plots_the_answer_paths(trained, qa_graph, tmp_path):
    from kgnlu.kg.plot import plot_subgraph

    qa, _, _ = trained
    kg = qa_graph
    answers = qa.answer("What is the capital of a country bordering the country of Kano?", k=2)
    sub = qa.evidence_subgraph(answers)
    assert sub.seeds.tolist() == [kg.index_of(ext("Kano"))]
    expected = {(kg.index_of(t.head), kg.index_of(t.tail)) for a in answers for p in a.evidence for t in p.triples}
    assert {(h, t) for h, _, t in sub.triples.tolist()} == expected
    png = plot_subgraph(kg, sub, tmp_path / "evidence.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_ensure_default_qa_reuses_a_model_trained_on_this_graph(trained, qa_graph, qa_linker, tmp_path):
    import shutil

    from kgnlu.qa.default import default_model_dir, ensure_default_qa

    qa, _, folder = trained
    shutil.copytree(folder, default_model_dir(tmp_path))
    messages = []
    loaded = ensure_default_qa(qa_graph.path, tmp_path, linker=qa_linker, report=messages.append)
    assert messages == []  # loaded, not trained
    q = "Which continent is the city Lyon in?"
    assert [a.to_json() for a in loaded.answer(q)] == [a.to_json() for a in qa.answer(q)]


def test_fewshot_mode_puts_retrieved_facts_in_the_prompt(trained, tiny_text_model):
    import torch

    from kgnlu.encoders import Encoder, EncoderConfig
    from kgnlu.qa.fewshot import CausalLMScorer
    from kgnlu.qa.fewshot_prompts import FewShotExample

    qa, _, _ = trained
    tokenizer = tiny_text_model[1]
    torch.manual_seed(0)
    lm = Encoder(EncoderConfig.gpt2(vocab_size=tokenizer.vocab_size, hidden_size=32, num_layers=1, num_heads=2,
                                    ffn_size=64, max_positions=512)).eval()
    scorer = CausalLMScorer.from_kgnlu(lm, tokenizer)
    facts = qa.facts("Which continent is the city Kyoto in?")
    assert ("Kyoto", "country", "Japan") in facts and ("Japan", "continent", "Asia") in facts
    demo = FewShotExample("What is the capital of France?", ["Paris", "Lyon"], 0)
    out = qa.fewshot_answer(scorer, "Which continent is the city Kyoto in?", ["Asia", "Europe"], demos=[demo])
    assert out["shots"] == 1 and len(out["scores"]) == 2 and out["answer"] in ("Asia", "Europe")
    assert "Japan continent Asia" in out["prompt"] and "What is the capital of France?" in out["prompt"]
    bare = qa.fewshot_answer(scorer, "Which continent is the city Kyoto in?", ["Asia", "Europe"], with_facts=False)
    assert bare["facts"] == [] and "Japan" not in bare["prompt"]


def test_fused_kgencoder_is_accepted_as_the_question_encoder(trained, qa_graph, qa_linker, tiny_text_model):
    """With no entity inputs KGEncoder is a drop-in for the encoder it wraps: same answers."""
    import torch

    from kgnlu.fusion.kg_encoder import KGEncoder

    qa, _, _ = trained
    encoder, tokenizer = tiny_text_model
    torch.manual_seed(0)
    fused = KGEncoder(encoder, torch.randn(qa_graph.num_entities, 8), inject={1: "kar"}).eval()
    through_fusion = KGQA(qa_graph, qa_linker, encoder=fused, tokenizer=tokenizer, model=qa.model)
    questions = ["Which continent is the city Lyon in?", "What is the capital of Ghana?"]
    for a, b in zip(qa.answer_batch(questions), through_fusion.answer_batch(questions), strict=True):
        assert [x.entity for x in a] == [x.entity for x in b]
        assert [x.score for x in a] == pytest.approx([x.score for x in b], abs=1e-5)


def test_the_default_training_is_the_documented_config():
    import yaml

    from kgnlu.qa.config import QAConfig
    from kgnlu.qa.default import DEFAULT_TRAINING

    documented = yaml.safe_load((Path(__file__).parents[2] / "configs" / "qa-default.yaml").read_text())["qa"]
    assert documented == DEFAULT_TRAINING
    QAConfig(**DEFAULT_TRAINING)  # every key is a field


def test_default_qa_data_is_regenerated_when_stale(qa_graph, tmp_path):
    import json

    from kgnlu.qa.data.files import write_dataset
    from kgnlu.qa.data.generate import MakeQAConfig, generate_questions
    from kgnlu.qa.default import _data_fits

    folder = tmp_path / "data"
    assert not _data_fits(folder, qa_graph)  # nothing there
    write_dataset(generate_questions(qa_graph, MakeQAConfig(per_path=4, max_questions=200)), folder)
    assert _data_fits(folder, qa_graph)
    meta = json.loads((folder / "meta.json").read_text())
    legacy = {k: v for k, v in meta.items() if k != "paths"}  # the template generator's meta had no paths
    (folder / "meta.json").write_text(json.dumps(legacy))
    assert not _data_fits(folder, qa_graph)
    meta["graph"]["manifest_sha256"] = "0" * 64  # made from another version of the graph
    (folder / "meta.json").write_text(json.dumps(meta))
    assert not _data_fits(folder, qa_graph)


def test_the_gnn_is_chosen_on_held_out_wordings(trained, qa_data):
    _, report, _ = trained
    dev = report["dev"]
    assert (qa_data / "paraphrase_dev.jsonl").is_file() and dev["gnn_split"] == "paraphrase_dev"
    kept = dev["gnn_split_hits@1_with"] >= dev["gnn_split_hits@1_without"]
    assert dev["gnn_used"] == kept
