"""Joint search over (topic mention, topic entity, relation path), then answer scoring.

For every linked mention m (its masked question embedded as q_m) and candidate entity e:

    joint(m, e, p) = w_topic · log p(m is the topic) + w_link · log p(e | m) + log p(p | q_m, kind(e))

where p(p | q_m, kind(e)) already holds the zero-shot path expert and, when q_m states a step count
("two levels up"), the step-count prior (:mod:`.step_counts`).

Paths whose first step has no edge at the entity are never candidates (log p = -inf before the
top-k per entity): an entity that is only an *instance* of a class ("Poe") has no hypernym edge,
and spending its ``paths_per_topic`` walks on hypernym paths would hand the question to another
mention ("thing"). The other paths keep their unnormalised probabilities, so an entity whose
walkable paths the question does not ask for still scores low against another sense of its mention.
The best combinations are walked on the graph (:mod:`.retrieval`) until enough of them reach
answers; a combination that reaches nothing is dropped, which is how a wrong sense or a wrong
mention loses to one the graph supports. Walked combinations get probabilities softmax(joint);
an answer's path score is log Σ_c P(c)·[answer ∈ walk(c)] (answer-set marginal), plus the typing
head's log p(kind(answer) | question) and a personalised-PageRank tie-break; the GNN
(:mod:`.gnn`) then adds a correction from the retrieved subgraph.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from kgnlu.errors import QAError
from kgnlu.qa.answer_types import kind_of
from kgnlu.qa.gnn import NODE_FEATURES
from kgnlu.qa.ppr import personalized_pagerank
from kgnlu.qa.relation_scorer import link_features
from kgnlu.qa.retrieval import Execution, RetrievedSubgraph, execute, retrieved_subgraph
from kgnlu.qa.topics import TopicMention


@dataclass
class Combo:
    mention: int
    entity: int
    path: int  # index into the model's path list
    joint: float
    row: int  # row of the (mention, entity) feature batch
    execution: Execution
    prob: float = 0.0


@dataclass
class GNNInputs:
    features: np.ndarray  # float32 [N + 1, F], the context node last
    edges: np.ndarray  # int64 [E, 2] (source, target), both directions
    symbols: np.ndarray  # int64 [E]
    candidate_nodes: np.ndarray  # int64 [a] node rows of the candidates inside the subgraph (-1 outside)


@dataclass
class Reasoning:
    combos: list[Combo]
    candidates: np.ndarray  # int64 [a] entity ids
    base: np.ndarray  # float64 [a]: path score + typing + PPR
    final: np.ndarray  # float64 [a]: base + GNN correction
    type_probs: np.ndarray  # float64 [K] expected answer kind
    subgraph: RetrievedSubgraph | None
    gnn: GNNInputs | None
    question: np.ndarray | None  # float32 [Hq] the chosen mention's masked-question embedding


def empty_reasoning(num_kinds: int) -> Reasoning:
    z = np.zeros(0)
    return Reasoning([], np.zeros(0, dtype=np.int64), z, z, np.zeros(num_kinds), None, None, None)


@torch.no_grad()
def reason(model, kg, mentions: list[TopicMention], vectors: np.ndarray, use_gnn: bool = True,
           cues=None) -> Reasoning:
    """``vectors`` float32 [M, Hq]: each mention's masked question, embedded. ``cues``: the
    :class:`~kgnlu.qa.question_cues.QuestionCues` that annotated ``mentions`` (frame words demoted,
    asked types applied to paths and answers); None scores without them."""
    cfg, scorer = model.config, model.scorer
    if not mentions:
        return empty_reasoning(scorer.num_kinds)
    qv = torch.from_numpy(np.asarray(vectors, dtype=np.float32))
    link = torch.tensor([m.score for m in mentions], dtype=torch.float32)
    topic_logits = scorer.topic_logits(qv, link_features(link), surface_vectors(mentions, cfg))  # (M,)
    topic_logits = topic_logits + cfg.topic_salience_weight * torch.tensor([m.salience for m in mentions])
    frame = torch.tensor([m.frame for m in mentions])
    if cues is not None and not bool(frame.all()):  # a relation or type word is the topic only as a last resort
        topic_logits = topic_logits - cfg.frame_penalty * frame.float()
    topic_logp = torch.log_softmax(topic_logits, dim=0)
    rows = [(i, e, p) for i, m in enumerate(mentions) for e, p in m.candidates]
    m_idx = torch.tensor([r[0] for r in rows])
    kinds = torch.tensor([kind_of(kg, r[1]) for r in rows])
    stated = torch.tensor([mentions[r[0]].stated_steps or 0 for r in rows])  # (R,) 0: no count stated
    if getattr(scorer, "needs_sides", False):  # zero-shot: word order around the topic (path_matching)
        sides = torch.from_numpy(np.stack([mentions[r[0]].side_vectors for r in rows]).astype(np.float32))
        path_logp = scorer.path_log_probs(qv[m_idx], kinds, stated, sides=sides)  # (R, P)
    else:
        path_logp = scorer.path_log_probs(qv[m_idx], kinds, stated)  # (R, P)
    if cues is not None and cfg.path_type_weight:
        path_logp = _with_path_types(path_logp, [mentions[r[0]].expected_type for r in rows], model.paths, cues,
                                     cfg.path_type_weight)
    path_logp = path_logp.masked_fill(~walkable_first_steps(kg, [r[1] for r in rows], model.paths), float("-inf"))
    prior = (cfg.topic_weight * topic_logp[m_idx]
             + cfg.link_weight * torch.log(torch.tensor([max(r[2], 1e-3) for r in rows])))  # (R,)
    stage = getattr(model, "rerank", None)
    if stage is not None and cfg.rerank_weight:
        path_logp = _reranked(path_logp, prior, m_idx, mentions, stage, cfg)
    type_probs = scorer.type_probs(qv[m_idx], kinds).numpy()  # (R, K)
    k = min(cfg.paths_per_topic, path_logp.shape[1])
    top_lp, top_p = path_logp.topk(k, dim=-1)  # (R, k)
    joint = (prior[:, None] + top_lp).flatten()
    order = torch.argsort(joint, descending=True).tolist()
    combos: list[Combo] = []
    tried = 0
    same_as = kg.relation_names.get("owl:sameAs")
    for flat in order:
        if len(combos) >= cfg.max_executions or tried >= 3 * cfg.max_executions:
            break
        if not np.isfinite(float(joint[flat])):
            break  # sorted: only unwalkable paths are left
        r, j = divmod(flat, k)
        mention, entity, _ = rows[r]
        path = int(top_p[r, j])
        ex = execute(kg.walker, entity, model.paths[path], cfg.max_frontier, same_as=same_as)
        tried += 1
        answers = ex.answers
        if cfg.exclude_topic:  # the topic is not its own answer, nor is its sameAs twin (Billings, MT = Billings)
            topic = _with_twins(kg, entity, same_as)
            answers = answers[~np.isin(answers, topic)]
        if len(answers):
            ex.trace[-1] = _without(ex.trace[-1], topic) if cfg.exclude_topic else ex.trace[-1]
            combos.append(Combo(mention, entity, path, float(joint[flat]), r, ex))
    if not combos:
        return empty_reasoning(scorer.num_kinds)
    joints = np.array([c.joint for c in combos])
    probs = np.exp(joints - joints.max())
    probs /= probs.sum()
    for c, p in zip(combos, probs, strict=True):
        c.prob = float(p)
    all_ans = np.concatenate([c.execution.answers for c in combos])
    weights = np.concatenate([np.full(len(c.execution.answers), c.prob) for c in combos])
    if cues is not None:  # owl:Class, rdf:Property and kin are the schema's words, never an answer
        keep = ~cues.vocabulary_terms(all_ans)
        if keep.any():
            all_ans, weights = all_ans[keep], weights[keep]
    candidates, inverse = np.unique(all_ans, return_inverse=True)
    if cfg.answer_pooling == "max":  # an answer is as likely as the best combination reaching it
        mass = np.zeros(len(candidates))
        np.maximum.at(mass, inverse, weights)
    else:  # the answer-set marginal: every combination reaching it adds
        mass = np.bincount(inverse, weights=weights, minlength=len(candidates))
    type_mix = (probs[:, None] * type_probs[[c.row for c in combos]]).sum(0)  # (K,)
    cand_kinds = np.asarray(kg.entity_kinds[candidates], dtype=np.int64)
    type_logp = np.log(np.maximum(type_mix[cand_kinds], 1e-6))
    sub = retrieved_subgraph([c.execution for c in combos], kg.triples, cfg.max_subgraph_nodes)
    ppr = _ppr(sub, combos, model.paths)
    local = sub.local(candidates).clip(max=len(sub.nodes) - 1)
    inside = sub.nodes[local] == candidates
    cand_ppr = np.where(inside, ppr[local], 0.0)
    ppr_feat = np.log(cand_ppr * len(sub.nodes) + 1e-3)
    path_score = np.log(np.maximum(mass, 1e-12))
    base = path_score + cfg.type_weight * type_logp + cfg.ppr_weight * ppr_feat
    asked = mentions[combos[0].mention].expected_type
    if cues is not None and asked and cfg.answer_type_weight:
        base = base + cfg.answer_type_weight * cues.answer_type_logp(candidates, asked)
    best_mention = combos[0].mention
    gnn_inputs = _gnn_inputs(kg, sub, combos, mentions, candidates, inside, local, path_score,
                             type_mix, ppr)
    final = base.copy()
    if use_gnn and cfg.gnn_weight != 0.0:
        final = base + cfg.gnn_weight * gnn_scores(model, gnn_inputs, vectors[best_mention])
    return Reasoning(combos, candidates, base, final, type_mix, sub, gnn_inputs,
                     np.asarray(vectors[best_mention], dtype=np.float32))


def _reranked(path_logp: torch.Tensor, prior: torch.Tensor, m_idx: torch.Tensor, mentions: list[TopicMention],
              stage, cfg) -> torch.Tensor:
    """(R, P) path scores with the cross-encoder's verdict on the ``rerank_top`` best distinct
    (mention, path) pairs of the first stage added (weight ``rerank_weight``): a reranked pair gets
    its logit minus the best one's, every other pair the worst reranked logit minus the best, so
    the first stage's ranking holds below the rescored pairs."""
    joint = prior[:, None] + path_logp  # (R, P)
    order = torch.argsort(joint.flatten(), descending=True).tolist()
    num_paths = path_logp.shape[1]
    pairs: list[tuple[int, int]] = []
    for flat in order:
        if len(pairs) >= cfg.rerank_top or not torch.isfinite(joint.flatten()[flat]):
            break
        pair = (int(m_idx[flat // num_paths]), flat % num_paths)
        if pair not in pairs:
            pairs.append(pair)
    if len(pairs) < 2:
        return path_logp
    logits = stage.scores([mentions[m].masked_text for m, _ in pairs], [p for _, p in pairs])
    best, worst = float(logits.max()), float(logits.min())
    bonus = torch.full((len(mentions), num_paths), worst - best, dtype=path_logp.dtype)  # (M, P)
    for (m, p), logit in zip(pairs, logits.tolist(), strict=True):
        bonus[m, p] = logit - best
    return path_logp + cfg.rerank_weight * bonus[m_idx]


def _with_path_types(path_logp: torch.Tensor, words: list[str | None], paths, cues, weight: float) -> torch.Tensor:
    """(R, P) path log-probabilities times P(path's answers fit the row's asked type)^weight, renormalised."""
    if not any(words):
        return path_logp
    prior = torch.zeros_like(path_logp)
    for i, word in enumerate(words):
        if word:
            prior[i] = torch.from_numpy(cues.path_type_logp(paths, word)).to(path_logp.dtype)
    return torch.log_softmax(path_logp + weight * prior, dim=-1)


def surface_vectors(mentions: list[TopicMention], cfg) -> torch.Tensor | None:
    """(M, Hq) the mentions' own embeddings when the topic head reads them, else None."""
    if not cfg.topic_surface:
        return None
    if any(m.surface_vector is None for m in mentions):
        raise QAError("this QA model's topic head reads mention embeddings: build mentions with KGQA.prepare")
    return torch.from_numpy(np.stack([m.surface_vector for m in mentions]).astype(np.float32))


def walkable_first_steps(kg, entities: list[int], paths) -> torch.Tensor:
    """(R, P) bool: whether path p's first step (relation, direction) has an edge at entity r."""
    first = torch.tensor([p.symbols()[0] if len(p) else -1 for p in paths])  # (P,)
    out = torch.zeros(len(entities), len(paths), dtype=torch.bool)
    for i, entity in enumerate(entities):
        out_rel, in_rel = kg.walker.relations_at(entity)  # a hub's edges are not read one by one
        symbols = np.concatenate([2 * out_rel, 2 * in_rel + 1])  # RelationPath's symbol convention
        out[i] = torch.from_numpy(np.isin(first.numpy(), symbols))
    return out


def gnn_scores(model, inputs: GNNInputs, question: np.ndarray) -> np.ndarray:
    """The GNN's logit for each candidate (0 for candidates outside the subgraph)."""
    n = len(inputs.features)
    logits = model.gnn(torch.from_numpy(np.asarray(question, dtype=np.float32))[None],
                       torch.from_numpy(inputs.features), torch.from_numpy(inputs.edges),
                       torch.from_numpy(inputs.symbols), torch.zeros(n, dtype=torch.long)).numpy()
    return np.where(inputs.candidate_nodes >= 0, logits[inputs.candidate_nodes.clip(min=0)], 0.0)


def _with_twins(kg, entity: int, same_as: int | None) -> np.ndarray:
    """int64 [n] ``entity`` and the entities ``owl:sameAs`` joins to it (either direction)."""
    if same_as is None:
        return np.array([entity], dtype=np.int64)
    twins = {s.target if s.source == entity else s.source for s in kg.walker.neighbors(entity, "both", [same_as])}
    return np.array(sorted(twins | {entity}), dtype=np.int64)


def _without(trace, entities: np.ndarray):
    from kgnlu.qa.retrieval import StepTrace

    keep = ~np.isin(trace.nodes, entities)
    twin = None if trace.twin is None else trace.twin[keep]
    return StepTrace(trace.nodes[keep], trace.first_row[keep], trace.first_prev[keep], trace.rows, twin)


def _ppr(sub: RetrievedSubgraph, combos: list[Combo], paths) -> np.ndarray:
    relevance: dict[int, float] = {}
    for c in combos:
        for r, _ in paths[c.path].steps:
            relevance[r] = relevance.get(r, 0.0) + c.prob
    weight = np.array([relevance.get(int(r), 0.0) + 0.05 for r in sub.edges[:, 1]])
    seeds: dict[int, float] = {}
    for c in combos:
        seeds[c.entity] = seeds.get(c.entity, 0.0) + c.prob
    seed_ids = sub.local(np.array(list(seeds), dtype=np.int64))
    return personalized_pagerank(len(sub.nodes), sub.edges[:, [0, 2]], weight, seed_ids,
                                 np.array(list(seeds.values())))


def _gnn_inputs(kg, sub: RetrievedSubgraph, combos: list[Combo], mentions, candidates, inside, local,
                path_score, type_mix, ppr) -> GNNInputs:
    n = len(sub.nodes)
    feats = np.zeros((n + 1, NODE_FEATURES), dtype=np.float32)
    topic_prob: dict[int, float] = {}
    for c in combos:
        topic_prob[c.entity] = max(topic_prob.get(c.entity, 0.0),
                                   dict(mentions[c.mention].candidates).get(c.entity, 0.0))
    topics = sub.local(np.array(list(topic_prob), dtype=np.int64))
    feats[topics, 0] = 1.0
    feats[topics, 6] = np.array(list(topic_prob.values()), dtype=np.float32)
    cand_nodes = np.where(inside, local, -1)
    feats[cand_nodes[inside], 1] = 1.0
    feats[cand_nodes[inside], 2] = np.maximum(path_score[inside], -20.0) / 10.0
    feats[:n, 3] = np.log(ppr * n + 1e-3) / 5.0
    node_kinds = np.asarray(kg.entity_kinds[sub.nodes], dtype=np.int64)
    feats[:n, 4] = np.log(np.maximum(type_mix[node_kinds], 1e-6)) / 5.0
    feats[:n, 5] = sub.depth / 3.0
    feats[n, 7] = 1.0  # the context node
    e = sub.edges
    fwd = np.stack([e[:, 0], e[:, 2]], axis=1)
    bwd = np.stack([e[:, 2], e[:, 0]], axis=1)
    ctx = np.full(len(topics), n, dtype=np.int64)
    edges = np.concatenate([fwd, bwd, np.stack([ctx, topics], 1), np.stack([topics, ctx], 1)])
    num_symbols = 2 * kg.num_relations
    symbols = np.concatenate([2 * e[:, 1], 2 * e[:, 1] + 1, np.full(len(topics), num_symbols),
                              np.full(len(topics), num_symbols + 1)])
    return GNNInputs(feats, edges.astype(np.int64), symbols.astype(np.int64), cand_nodes.astype(np.int64))
