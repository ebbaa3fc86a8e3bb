"""KGQA: ask a question, get answers from the graph with the evidence paths behind them.

    from kgnlu import KGQA
    qa = KGQA.load("~/.cache/kgnlu/qa/default")                  # graph and linker from its config
    for a in qa.answer("Which continent is the country of Lyon in?", k=3):
        print(a.label, round(a.score, 3), a.evidence[0].text)
    qa.choose("We dug the ground to plant flowers. Which tool did we need?", ["shovel", "excavator"])

    qa = KGQA(kg, linker, encoder=my_encoder, tokenizer=my_tokenizer)   # untrained: fit it first
    qa.fit("data/qa", out="runs/qa")

Steps (docs/architecture.md, "qa"): link the question → mask each linked mention and embed the question with
the frozen encoder → score (mention, entity, relation path) jointly → walk the best paths on the
graph (the retrieved subgraph) → score answers (path marginal, answer typing, personalised
PageRank, GNN over the subgraph with the question as a context node) → answers with evidence.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from kgnlu.errors import QAError
from kgnlu.qa.answer import Answer, AnswerList, EvidencePath, EvidenceTriple, connection_key
from kgnlu.qa.config import QAConfig
from kgnlu.qa.question import QuestionEncoder, clean_question, mask_span
from kgnlu.qa.reasoner import Reasoning, reason
from kgnlu.qa.step_counts import stated_steps
from kgnlu.qa.topics import TopicMention, topic_mentions

NO_ENTITY = "no entity in the question could be linked to the graph"



class KGQA:
    def __init__(self, graph, linker=None, encoder=None, tokenizer=None, *, model=None,
                 config: QAConfig | None = None, encoder_spec: dict | None = None):
        """``graph``: a KnowledgeGraph or its directory. ``linker``: an EntityLinker (default: fast
        mode over the graph). ``encoder``: anything with kgnlu Encoder's forward (default: the
        packaged MiniLM) and ``tokenizer`` its tokenizer. ``model``: a trained QAModel (else call
        :meth:`fit`)."""
        from kgnlu.kg import KnowledgeGraph

        self.kg = graph if isinstance(graph, KnowledgeGraph) else KnowledgeGraph.load(graph, verify=False)
        if linker is None:
            from kgnlu.kg.linker import EntityLinker

            linker = EntityLinker.from_graph(self.kg, mode="fast")
        self.linker = linker
        if encoder is None:
            from kgnlu.data.tokenizer import load_minilm_tokenizer
            from kgnlu.encoders import load_minilm

            encoder, tokenizer = load_minilm(), tokenizer or load_minilm_tokenizer()
            encoder_spec = encoder_spec or {"kind": "minilm"}
        elif tokenizer is None:
            raise QAError("a custom encoder needs its tokenizer: KGQA(graph, linker, encoder=..., tokenizer=...)")
        self.encoder, self.tokenizer = encoder, tokenizer
        self.encoder_spec = encoder_spec or {"kind": "saved"}
        self.questions = QuestionEncoder(encoder, tokenizer, linker=self.linker)
        self.model = model
        self.config = model.config if model is not None else (config or QAConfig())
        self._cues = None

    @property
    def cues(self):
        """Frame words, asked types and appositions of this graph (:mod:`.question_cues`), built once."""
        if self._cues is None:
            from kgnlu.qa.question_cues import QuestionCues

            self._cues = QuestionCues(self.kg)
        return self._cues

    def _lexical(self):
        """The linker's lexical index (word rarity for mention salience), when it has one."""
        index = getattr(self.linker, "index", None)
        return getattr(index, "lexical", None)

    @property
    def zero_shot(self) -> bool:
        """Whether this KGQA answers without a trained model (:meth:`from_graph`)."""
        return self.model is not None and not getattr(self.model, "trained", True)

    @classmethod
    def from_graph(cls, graph, linker=None, encoder=None, tokenizer=None, *, config: QAConfig | None = None,
                   report=None) -> KGQA:
        """Zero-shot QA on any graph (:mod:`.zero_shot`): no training, no template. The path catalog
        and its description prototypes are built on first use (a progress line via ``report``) and
        cached under ``$KGNLU_HOME/cache/qa`` for the packaged encoder."""
        from kgnlu.qa.zero_shot import build_zero_shot, default_cache_dir

        qa = cls(graph, linker, encoder, tokenizer, config=config)
        cache = default_cache_dir(qa.kg, "minilm") if qa.encoder_spec.get("kind") == "minilm" else None
        qa.model = build_zero_shot(qa.kg, qa.questions.encode, config, cache, **({"report": report} if report else {}))
        qa.config = qa.model.config
        return qa

    # ------------------------------------------------------------------ persistence
    @classmethod
    def load(cls, folder: str | Path, graph=None, linker=None, encoder=None, tokenizer=None) -> KGQA:
        """A trained model. ``graph`` defaults to ``$KGNLU_HOME/graphs/<name it was trained on>``;
        a graph whose checksum differs from the training graph's raises QAError."""
        from kgnlu.kg import KnowledgeGraph
        from kgnlu.kg.build import kgnlu_home
        from kgnlu.qa.storage import load_encoder, load_model, read_meta

        folder = Path(folder).expanduser()
        meta = read_meta(folder)
        if graph is None:
            graph = kgnlu_home() / "graphs" / meta["graph"]["name"]
            if not graph.is_dir():
                raise QAError(f"{folder} was trained on graph {meta['graph']['name']!r}, not found at {graph}; "
                              "pass graph=")
        kg = graph if isinstance(graph, KnowledgeGraph) else KnowledgeGraph.load(graph, verify=False)
        model, meta = load_model(folder, kg)
        spec = None
        if encoder is None:
            encoder, tokenizer = load_encoder(folder, meta)
            spec = meta.get("encoder")
        return cls(kg, linker, encoder, tokenizer, model=model, encoder_spec=spec)

    def save(self, folder: str | Path, extra: dict | None = None) -> Path:
        from kgnlu.qa.storage import save_model

        self._require_trained()
        if self.zero_shot:
            raise QAError("a zero-shot KGQA has nothing trained to save: train a model with `kgnlu data make-qa` "
                          "and `kgnlu qa train` (or KGQA.fit)")
        return save_model(self.model, folder, self.kg, self.encoder_spec, self.encoder, self.tokenizer, extra)

    # ------------------------------------------------------------------ training
    def fit(self, data_dir: str | Path, out: str | Path | None = None, *, log=print,
            holdout_templates: bool = False) -> dict:
        """Train on ``data_dir/{train,dev}.jsonl`` (``kgnlu data make-qa``); saves to ``out`` when
        given. Returns the training report (dev hits@1 per hop, seconds, ...). ``holdout_templates``:
        train without one template per path and report on its questions (for choosing settings).
        ``self.config`` becomes the settings training chose (the model's); the config object this
        KGQA was made with is left as it was."""
        from kgnlu.qa.train import train_qa

        training = train_qa(self, Path(data_dir), self.config, log=log, holdout_templates=holdout_templates)
        self.model, self.config, report = training.model, training.config, training.report
        if out is not None:
            self.save(out, extra={"training": report})
        return report

    # ------------------------------------------------------------------ answering
    def answer(self, question: str, k: int = 5) -> AnswerList:
        """The ``k`` best answers, each with its evidence paths; an empty list has ``.reason``."""
        return self.answer_batch([question], k)[0]

    def answer_batch(self, questions: Sequence[str], k: int = 5) -> list[AnswerList]:
        self._require_trained()
        texts = [clean_question(q, self.config.max_question_chars) for q in questions]
        mentions, vectors = self.prepare(texts)
        out = []
        for text, ms, vecs in zip(texts, mentions, vectors, strict=True):
            if not ms:
                out.append(AnswerList(question=text, reason=NO_ENTITY))
                continue
            out.append(self._answers(text, ms, reason(self.model, self.kg, ms, vecs, cues=self.cues), k))
        return out

    def prepare(self, texts: Sequence[str]) -> tuple[list[list[TopicMention]], list[np.ndarray]]:
        """Link every text, mark each mention's cues (:mod:`.question_cues`) and embed its masked
        question (one encoder batch); with ``topic_surface`` each mention's own text too (its
        ``surface_vector``), for a zero-shot model the question's sides of it (``side_vectors``)."""
        cfg = self.config
        mentions = [topic_mentions(self.kg, links, cfg.max_mentions, cfg.max_candidates)
                    for links in self.linker.link_batch(texts)]
        for text, ms in zip(texts, mentions, strict=True):
            self.cues.annotate(text, ms, cfg.placeholder, self._lexical())  # may widen a span: "the city of Lyon"
        masked = [mask_span(t, m.start, m.end, cfg.placeholder) for t, ms in zip(texts, mentions, strict=True)
                  for m in ms]
        # each distinct mention text once, after the masked questions, in the same encoder batch
        surfaces = list(dict.fromkeys(m.surface for ms in mentions for m in ms)) if cfg.topic_surface else []
        side_texts = []
        if getattr(self.model.scorer if self.model is not None else None, "needs_sides", False):
            from kgnlu.qa.path_matching import sides

            side_texts = [s for t, ms in zip(texts, mentions, strict=True) for m in ms for s in sides(t, m.start, m.end)]
        extra = list(dict.fromkeys(surfaces + side_texts))
        flat = self.questions.encode(masked + extra)
        row = {s: len(masked) + i for i, s in enumerate(extra)}
        vectors, at = [], 0
        for ms in mentions:
            vectors.append(flat[at: at + len(ms)])
            at += len(ms)
        flat_mentions = [m for ms in mentions for m in ms]
        for m in flat_mentions:
            if cfg.topic_surface:
                m.surface_vector = flat[row[m.surface]]
        if side_texts:
            for i, m in enumerate(flat_mentions):
                m.side_vectors = flat[[row[side_texts[2 * i]], row[side_texts[2 * i + 1]]]]
        for m, text in zip((m for ms in mentions for m in ms), masked, strict=True):
            m.masked_text = text
            m.stated_steps = stated_steps(text)  # read with the mention masked: "Two Sicilies" counts nothing
        return mentions, vectors

    def _answers(self, text: str, mentions: list[TopicMention], r: Reasoning, k: int) -> AnswerList:
        kg = self.kg
        if not r.combos:
            names = ", ".join(sorted({m.surface for m in mentions}))
            return AnswerList(question=text, reason=f"no relation path from the linked entities ({names}) "
                                                    "reaches an answer in the graph")
        probs = np.exp(r.final - r.final.max())
        probs /= probs.sum()
        top = np.argsort(-r.final, kind="stable")[:k]
        answers = [Answer(kg.entity_id(r.candidates[i]), kg.entity_label(r.candidates[i]), float(probs[i]),
                          self.evidence(r, int(r.candidates[i])), kg.entity_kind(r.candidates[i]))
                   for i in top.tolist()]
        best = r.combos[0]
        m = mentions[best.mention]
        topic = {"entity": kg.entity_id(best.entity), "label": kg.entity_label(best.entity),
                 "mention": m.surface, "start": m.start, "end": m.end,
                 "relations": self.model.paths[best.path].external(kg)}
        return AnswerList(answers, question=text, topic=topic)

    def evidence(self, r: Reasoning, entity: int) -> tuple[EvidencePath, ...]:
        """Up to ``max_evidence`` chains topic → ``entity``, from the most probable walks first."""
        kg, out, seen = self.kg, [], set()
        for c in sorted(r.combos, key=lambda c: -c.prob):
            steps = c.execution.evidence(entity, kg.triples)
            # a fact stored both ways (capital/country, hypernym/hyponym) is shown once
            key = connection_key((kg.entity_label(s.head) or kg.entity_id(s.head),
                                  kg.entity_label(s.tail) or kg.entity_id(s.tail)) for s in steps)
            if not steps or key in seen:
                continue
            seen.add(key)
            triples = tuple(EvidenceTriple(kg.entity_id(s.head), kg.relation_id(s.relation), kg.entity_id(s.tail),
                                           kg.entity_label(s.head), kg.relation_label(s.relation),
                                           kg.entity_label(s.tail), s.forward) for s in steps)
            out.append(EvidencePath(triples, c.prob, tuple(self.model.paths[c.path].external(kg))))
            if len(out) >= self.config.max_evidence:
                break
        return tuple(out)

    def evidence_subgraph(self, answers: AnswerList):
        """The evidence triples of ``answers`` as a :class:`~kgnlu.kg.traversal.Subgraph` (for
        ``kgnlu.kg.plot.plot_subgraph``), seeded at the topic entity."""
        from kgnlu.kg.traversal import Subgraph

        kg, rows, nodes = self.kg, set(), set()
        for a in answers:
            for path in a.evidence:
                for t in path.triples:
                    h, r, tl = kg.index_of(t.head), kg.relation_index(t.relation), kg.index_of(t.tail)
                    rows.add((h, r, tl))
                    nodes.update((h, tl))
        seeds = [kg.index_of(answers.topic["entity"])] if answers.topic else []
        nodes.update(seeds)
        trip = np.array(sorted(rows), dtype=np.int32).reshape(-1, 3)
        return Subgraph(np.array(seeds, dtype=np.int64), np.array(sorted(nodes), dtype=np.int64), trip, hops=3)

    # ------------------------------------------------------------------ other modes
    def choose(self, question: str, choices: Sequence[str]):
        """Multiple-choice mode: a score per choice, with evidence (see :mod:`.multiple_choice`)."""
        from kgnlu.qa.multiple_choice import score_choices

        return score_choices(self, question, choices)

    def facts(self, question: str, limit: int = 8) -> list[str]:
        """Retrieved graph facts as sentences ("Lyon country France."), for few-shot prompts."""
        from kgnlu.qa.fewshot_with_facts import retrieved_facts

        return retrieved_facts(self, question, limit)

    def fewshot_answer(self, scorer, question: str, choices: Sequence[str], demos: Sequence = (),
                       instruction: str = "", with_facts: bool = True) -> dict:
        """Few-shot mode: score ``choices`` with a causal LM (``kgnlu.qa.fewshot.CausalLMScorer``),
        ``demos`` as in-context examples, retrieved graph facts in the prompt when ``with_facts``."""
        from kgnlu.qa.fewshot_with_facts import fewshot_answer

        return fewshot_answer(self, scorer, question, choices, demos, instruction, with_facts)

    def _require_trained(self) -> None:
        if self.model is None:
            raise QAError("this KGQA has no trained model: call .fit(DATA_DIR) or use KGQA.load(DIR) "
                          "(`kgnlu qa train GRAPH --data DIR --out DIR` trains one)")
