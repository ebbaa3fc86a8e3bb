"""EntityLinker: text → :class:`Link` (character spans → entity ids) against a KnowledgeGraph.

    kg = KnowledgeGraph.load(path)
    linker = EntityLinker.from_graph(kg, mode="fast")     # or "neural" (MiniLM context similarity)
    linker.link("Paris, a city in Texas, ...")             # [Link(0, 5, "Paris", "geonames:4717560", ...)]
    for links in linker.link_batch(lines): ...             # streaming, batched

Steps: spaCy tokens → mentions (:mod:`.mentions`) → candidates (:mod:`.candidates`, plus
:mod:`.dense_index` in neural mode) → context features (:mod:`.lexical`, encoder embeddings) →
scores (:mod:`.disambiguation`). Everything is windowed (mentions see a bounded token window and
a bounded number of neighbouring mentions), so time grows linearly with the text.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from kgnlu.errors import ConfigError, LinkerIndexError
from kgnlu.kg.graph_builder import alias_key
from kgnlu.kg.linker.cache import (
    EMBEDDINGS,
    cache_folder,
    carry_embeddings,
    copy_index,
    embeddings_fit,
    graph_identity,
    save_mode,
)
from kgnlu.kg.linker.candidates import CandidateGenerator, CandidateInfo
from kgnlu.kg.linker.dense_index import DenseIndex, EntityEmbeddings, TextEncoder
from kgnlu.kg.linker.disambiguation import Coherence, Disambiguator, MentionItem, Weights
from kgnlu.kg.linker.index import LINKER_DIR, LinkerIndex
from kgnlu.kg.linker.lexical import stem
from kgnlu.kg.linker.link import Candidate, Link
from kgnlu.kg.linker.mentions import STOP, Mention, Variant, doc_tokens
from kgnlu.kg.linker.pos_cue import PosCue
from kgnlu.kg.linker.qualifiers import QualifierBinding, qualifier_pairs
from kgnlu.kg.linker.windows import MAX_TEXT_CHARS, WINDOW_CHARS, Window, check_size, windows

log = logging.getLogger(__name__)
MODES = ("fast", "neural")
AUTO_DENSE_LIMIT = 20_000  # graphs up to this many entities get a dense index without asking
_SURROGATE = re.compile("[\ud800-\udfff]")


@dataclass
class LinkerConfig:
    mode: str = "fast"
    nil_threshold: float = 0.05  # mentions whose best score is below this are not linked
    fuzzy: bool = True  # fuzzy candidates for unmatched capitalised runs and long words
    fuzzy_min_similarity: float = 0.8
    max_candidates: int = 64  # per mention, by prior (KnowBERT kept 30)
    context_tokens: int = 24  # lexical context: this many tokens either side of a mention
    segment_tokens: int = 64  # neural context: texts are encoded in segments of this many tokens
    coherence_window: int = 8  # mentions either side that coherence looks at
    dense_k: int = 8  # dense candidates per mention without alias candidates
    dense_min_score: float = 0.55
    batch_size: int = 64
    device: str = "cpu"
    window_chars: int = WINDOW_CHARS  # long texts are linked in windows of this size (bounded memory)
    max_text_chars: int = MAX_TEXT_CHARS  # longer texts are refused (E051) rather than half-linked
    weights: Weights = field(default_factory=Weights)

    def __post_init__(self):
        if self.mode not in MODES:
            raise ConfigError(f"linker mode must be one of {', '.join(MODES)}, got {self.mode!r}")
        if not 0.0 <= self.nil_threshold <= 1.0:
            raise ConfigError(f"nil_threshold must be in [0, 1], got {self.nil_threshold}")
        if self.window_chars < 1_000:
            raise ConfigError(f"window_chars must be >= 1000 (mentions and their context fit), got {self.window_chars}")


class EntityLinker:
    def __init__(self, kg, index: LinkerIndex, config: LinkerConfig, nlp=None,
                 encoder: TextEncoder | None = None, embeddings: EntityEmbeddings | None = None,
                 dense: DenseIndex | None = None, folder: Path | None = None):
        import spacy

        from kgnlu.kg.linker.mentions import MentionDetector

        self.kg, self.index, self.config = kg, index, config
        self.nlp = nlp if nlp is not None else spacy.blank("en")
        names_cache: dict[int, bool] = {}

        def names_only(row: int) -> bool:
            hit = names_cache.get(row)
            if hit is None:
                hit = names_cache[row] = index.aliases.names_only(row, index.proper)
            return hit

        self.detector = MentionDetector(index.aliases.index, index.prefixes, index.morphology,
                                        names_only=names_only)
        self.candidates = CandidateGenerator(index.aliases, index.canonical, index.entity_pos,
                                             index.fuzzy if config.fuzzy else None,
                                             config.max_candidates, config.fuzzy_min_similarity)
        coherence = Coherence(kg.walker, index.canonical)
        label_cache: dict[int, frozenset[str]] = {}

        def label_keys(e: int) -> frozenset[str]:
            hit = label_cache.get(e)
            if hit is None:
                hit = frozenset(alias_key(kg.entity_label(x)) for x in [e, *coherence.members.get(e, ())])
                if len(label_cache) < 200_000:
                    label_cache[e] = hit
            return hit

        self.disambiguator = Disambiguator(config.weights, coherence, index.proper, label_keys)
        self.pos_cue = PosCue(index.entity_pos, index.proper)
        self.qualifiers = QualifierBinding(coherence, kg.entity_kind)
        self.encoder, self.embeddings, self.dense = encoder, embeddings, dense
        self.folder = folder
        self._ids = tuple(kg.entity_ids())  # a tuple: the cyclic GC stops rescanning it
        self._word_cache: dict[int, str | None] = {}
        self.senses = None  # LinkerSenses: a sense model's feature (from_graph(sense_model=...))

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_graph(cls, kg, mode: str = "fast", *, nil_threshold: float | None = None,
                   weights: Weights | dict | None = None, nlp=None, encoder: TextEncoder | str | Path | None = None,
                   entity_texts: Sequence[str] | None = None, save: bool | str = "cache",
                   dense: bool | None = None, device: str = "cpu", rebuild: bool = False,
                   sense_model=None, **config) -> EntityLinker:
        """A linker over ``kg``. Indexes are read from ``GRAPH/linker/`` when the graph ships a
        current one, else from the user cache (:mod:`.cache`), else built (seconds for
        WordNet+GeoNames) and saved where ``save`` says: ``"cache"`` (default: the user cache, so
        using a graph never writes into it and a read-only graph works), ``"graph"``
        (``GRAPH/linker/``, to ship them with the graph: ``kgnlu link --save-index``) or
        ``"none"``. Computed entity embeddings and the dense index go to the same place.

        ``entity_texts`` replaces the entities' texts (evaluations strip held-out examples this
        way); such a linker is never saved. ``nlp``: a spaCy pipeline; its NER spans are linked
        too. ``encoder``: a :class:`TextEncoder` or an encoder folder with its tokenizer (e.g. a
        ``kgnlu distill`` student) for neural mode (default: packaged MiniLM); saved entity
        embeddings and dense indexes are MiniLM's, so another encoder neither reads nor writes them.
        ``dense``: build a faiss index over every entity (default: only for graphs up to
        20,000 entities; ``kgnlu link GRAPH --build-index`` builds one for larger graphs).
        ``sense_model``: a :class:`~kgnlu.kg.linker.sense_model.SenseModel` or its folder (``kgnlu
        train-senses``); its scores join mentions with WordNet candidates as the ``sense`` feature.
        """
        if isinstance(weights, dict):
            weights = Weights.from_dict(weights)
        cfg = LinkerConfig(mode=mode, weights=weights or Weights(), device=device, **config)
        if nil_threshold is not None:
            cfg.nil_threshold = float(nil_threshold)
            cfg.__post_init__()
        import spacy

        nlp_ = nlp if nlp is not None else spacy.blank("en")
        where = save_mode(save) if entity_texts is None else "none"
        graph_dir = Path(kg.path) / LINKER_DIR
        cache_dir = cache_folder(kg)
        write = {"cache": cache_dir, "graph": graph_dir, "none": None}[where]
        index = source = None
        if entity_texts is None and not rebuild:
            index, source = cls._load_index([graph_dir, cache_dir], kg)
        if index is None:
            if entity_texts is None:  # the first use of a graph: tell why it takes a while (issue 20)
                from kgnlu.progress import note

                note(f"building the linker index for {kg.path} once ({kg.num_entities:,} entities); "
                     + (f"it is cached in {write} for later runs" if write is not None else "it is not saved"))
            index = LinkerIndex.build(kg, nlp_, entity_texts)
        # built: saved where asked; found in the cache: copied into the graph only with save="graph"
        if write is not None and (source is None or (write == graph_dir and source != graph_dir)):
            cls._save_index(index, write, kg, source)
        # embeddings: the folder new rows are saved to first (it has the most), then the others
        reads = [] if entity_texts is not None else list(dict.fromkeys(
            [f for f in (write, graph_dir, cache_dir) if f is not None]))
        emb = dense_index = None
        if mode == "neural":
            if encoder is not None:
                reads, write = [], None  # the saved embeddings/index belong to MiniLM
            if isinstance(encoder, str | Path):
                encoder = TextEncoder.from_pretrained(encoder, device=device, batch_size=cfg.batch_size)
            encoder = encoder or TextEncoder.minilm(device=device, batch_size=cfg.batch_size)
            emb, emb_from = cls._load_embeddings(reads, kg, encoder, index)
            if emb_from is not None and emb_from != write and write == graph_dir:
                emb.dirty = True  # --save-index: the cache's rows are copied into the graph too
            if dense is not False:
                for folder in reads:
                    if (folder / "dense.faiss").is_file() and embeddings_fit(folder, kg):
                        dense_index = DenseIndex.load(folder)
                        break
        linker = cls(kg, index, cfg, nlp_, encoder, emb, dense_index, write)
        if sense_model is not None:
            from kgnlu.kg.linker.sense_model import LinkerSenses

            linker.senses = LinkerSenses(sense_model, kg, index.texts, device)
        if mode == "neural" and dense_index is None and (
                dense or (dense is None and kg.num_entities <= AUTO_DENSE_LIMIT)):
            from kgnlu.progress import note

            note(f"embedding entities and building the dense index for {kg.path} once"
                 + (f"; it is cached in {write}" if write is not None else ""))
            linker.build_dense_index()
        return linker

    @staticmethod
    def _load_index(folders: list[Path], kg) -> tuple[LinkerIndex | None, Path | None]:
        """The first current index of ``folders`` (the graph's own, then the user cache)."""
        for folder in folders:
            if LinkerIndex.is_current(folder, kg):
                try:
                    return LinkerIndex.load(folder, kg), folder
                except LinkerIndexError as err:
                    log.warning("%s", err)
        return None, None

    @staticmethod
    def _save_index(index: LinkerIndex, folder: Path, kg, source: Path | None = None) -> None:
        """Write ``index`` (or copy ``source``'s files) into ``folder``, keeping the embeddings and
        dense index already there when they were computed for this very graph."""
        from kgnlu.io import atomic_directory

        try:
            with atomic_directory(folder) as staging:
                if source is not None:
                    copy_index(source, staging)
                else:
                    index.save(staging, kg)
                carry_embeddings(folder, staging, kg)
        except OSError as err:  # a read-only cache still links, it just rebuilds next time
            log.warning("could not save linker indexes to %s: %s", folder, err)

    @staticmethod
    def _load_embeddings(folders: list[Path], kg, encoder: TextEncoder,
                         index: LinkerIndex) -> tuple[EntityEmbeddings, Path | None]:
        """Saved embeddings from the first folder whose file was computed for this graph, and that
        folder; else empty rows (filled lazily) and None."""
        text_of = _cluster_text(index)
        for folder in folders:
            if not embeddings_fit(folder, kg):
                continue
            try:
                return EntityEmbeddings.load(folder / EMBEDDINGS, kg.num_entities, encoder.dim, text_of,
                                             graph_identity(kg)), folder
            except (ConfigError, OSError) as err:
                log.warning("%s; recomputing entity embeddings", err)
        return EntityEmbeddings.empty(kg.num_entities, encoder.dim, text_of), None

    def build_dense_index(self, on_progress=None) -> DenseIndex:
        """Embed every entity cluster and index them with faiss (saved where the linker saves)."""
        if self.encoder is None or self.embeddings is None:
            raise ConfigError("a dense index needs neural mode (an encoder)")
        reps = np.unique(self.index.canonical)
        self.embeddings.fill(reps.tolist(), self.encoder, on_progress=on_progress)
        self.dense = DenseIndex.build(self.embeddings.get(reps), reps)
        if self.folder is not None:
            try:
                self.embeddings.save(self.folder / EMBEDDINGS, graph_identity(self.kg))
                self.dense.save(self.folder)
            except OSError as err:
                log.warning("could not save the dense index to %s: %s", self.folder, err)
        return self.dense

    def save_embeddings(self) -> None:
        """Persist lazily computed entity embeddings where the linker saves (no-op when nothing
        is new or ``save="none"``); an unwritable folder is logged, never fatal."""
        if self.embeddings is not None and self.embeddings.dirty and self.folder is not None:
            try:
                self.embeddings.save(self.folder / EMBEDDINGS, graph_identity(self.kg))
            except OSError as err:
                log.warning("could not save entity embeddings to %s: %s", self.folder, err)

    # ------------------------------------------------------------------ linking
    def link(self, text: str, spans: Sequence[tuple[int, int]] | None = None) -> list[Link]:
        """Links in ``text``. With ``spans`` (character offsets), only those spans are
        disambiguated (gold-mention evaluation); each gets its best candidate, no NIL cut.
        A long text is linked window by window (:mod:`.windows`): memory does not grow with it."""
        return next(self._link_windowed([text], 1, [spans] if spans is not None else None))

    def iter_links(self, text: str) -> Iterator[Link]:
        """The links of ``text`` in order, yielded window by window: what is alive at once is one
        window's work and links, however long the text (``link()`` also holds every link it returns)."""
        for w, _ in self._windows(text, None):
            yield from self._own_links(w, self._link_docs([self._window_doc(text, w, False)])[0], False)

    def link_batch(self, texts: Iterable[str], batch_size: int | None = None) -> Iterator[list[Link]]:
        """Stream links for many texts, in order, ``batch_size`` texts (or windows) at a time."""
        yield from self._link_windowed(texts, batch_size or self.config.batch_size)

    def link_doc(self, doc, use_ner: bool = True) -> list[Link]:
        """Links for a spaCy Doc made elsewhere (the spaCy component's entry)."""
        return self.link_docs([doc], use_ner=use_ner)[0]

    def link_docs(self, docs: Sequence, use_ner: bool = True) -> list[list[Link]]:
        docs = list(docs)
        return list(self._link_windowed(docs, max(1, len(docs)), use_ner=use_ner, are_docs=True))

    def entity_index(self, ext_id: str) -> int:
        return self.kg.index_of(ext_id)

    def canonical_id(self, ext_id: str) -> str:
        """The external id of the sameAs cluster an entity belongs to (the id links report)."""
        e = self.kg.index_of(ext_id)
        return ext_id if e < 0 else self._ids[int(self.index.canonical[e])]

    # ------------------------------------------------------------------ internals
    def _link_windowed(self, sources: Iterable, batch_size: int, spans_list: list | None = None,
                       use_ner: bool = True, are_docs: bool = False) -> Iterator[list[Link]]:
        """Links per source (texts, or spaCy Docs with ``are_docs``), in order. Each source is cut
        into windows; windows are linked ``batch_size`` at a time and at most about one window's
        characters at a time, so what is alive at once is bounded by the window, not the text."""
        pending: list[tuple[int, Window, object, list | None]] = []
        results: dict[int, list[Link]] = {}
        left: dict[int, int] = {}  # windows of each source not linked yet
        done = 0  # sources yielded so far
        chars = 0
        for i, source in enumerate(sources):
            if not are_docs and not isinstance(source, str):
                raise ConfigError(f"link() takes str, got {type(source).__name__}")
            text = source.text if are_docs else source
            parts = self._windows(text, None if spans_list is None else spans_list[i])
            results[i], left[i] = [], len(parts)
            for w, spans in parts:
                pending.append((i, w, self._window_doc(source, w, are_docs), spans))
                chars += w.end - w.start
                if len(pending) >= batch_size or chars >= self.config.window_chars:
                    self._link_pending(pending, results, left, use_ner, spans_list is not None)
                    pending, chars = [], 0
                    while done in results and left[done] == 0:
                        yield results.pop(done)
                        done += 1
        if pending:
            self._link_pending(pending, results, left, use_ner, spans_list is not None)
        while done in results:
            yield results.pop(done)
            done += 1

    def _windows(self, text: str, spans) -> list[tuple[Window, list | None]]:
        check_size(len(text), self.config.max_text_chars)
        parts = windows(text, self.config.window_chars)
        if spans is None:
            return [(w, None) for w in parts]
        spans = [(int(a), int(b)) for a, b in spans]
        for start, end in spans:  # checked here: a span outside the text belongs to no window
            if not 0 <= start < end <= len(text):
                raise ConfigError(f"span ({start}, {end}) is outside the text (length {len(text)})")
        out = []
        for w in parts:  # each given span is linked in the window its start belongs to, whole
            mine = [(a, b) for a, b in spans if w.own_start <= a < w.own_end]
            end = max([w.end] + [b for _, b in mine])
            out.append((Window(w.start, end, w.own_start, w.own_end), [(a - w.start, b - w.start) for a, b in mine]))
        return out

    def _window_doc(self, source, w: Window, is_doc: bool):
        if not is_doc:
            return self._doc(source if w.end - w.start == len(source) else source[w.start:w.end])
        if w.end - w.start == len(source.text):
            return source
        return source.char_span(w.start, w.end, alignment_mode="expand").as_doc()

    def _link_pending(self, pending: list, results: dict, left: dict, use_ner: bool, given: bool) -> None:
        """Link a batch of windows; keep each window's own links, shifted to source offsets."""
        docs = [p[2] for p in pending]
        outs = self._link_docs(docs, [p[3] for p in pending] if given else None, use_ner=use_ner)
        for (i, w, _, _), links in zip(pending, outs, strict=True):
            results[i].extend(self._own_links(w, links, given))
            left[i] -= 1

    @staticmethod
    def _own_links(w: Window, links: list[Link], given: bool) -> list[Link]:
        """A window's links that start in its own part, shifted to the source's offsets."""
        if not given:  # given spans each belong to one window already
            links = [lk for lk in links if w.own_start <= lk.start + w.start < w.own_end]
        if w.start:
            links = [replace(lk, start=lk.start + w.start, end=lk.end + w.start) for lk in links]
        return links

    def _doc(self, text: str):
        if not isinstance(text, str):
            raise ConfigError(f"link() takes str, got {type(text).__name__}")
        # spaCy and WordPiece need valid UTF-8; one replacement per surrogate keeps offsets.
        clean = _SURROGATE.sub("\ufffd", text)
        if self.nlp.pipe_names and "ner" in self.nlp.pipe_names and len(clean) < self.nlp.max_length:
            doc = self.nlp(clean)
        else:
            doc = self.nlp.tokenizer(clean)
        doc.user_data["kgnlu_text"] = text
        return doc

    def _link_docs(self, docs: list, spans_per_doc: list | None = None,
                   use_ner: bool = True) -> list[list[Link]]:
        per_doc: list[list[MentionItem]] = []
        for d, doc in enumerate(docs):
            if spans_per_doc is not None:
                mentions = self._given_mentions(doc, spans_per_doc[d])
            else:
                mentions = self.detector.detect(doc, use_ner=use_ner, fuzzy=self.config.fuzzy)
            text = doc.user_data.get("kgnlu_text", doc.text)
            items = []
            for m in mentions:
                key = alias_key(text[m.start:m.end])
                items.append(MentionItem(m, key, self.candidates.for_mention(m, key)))
            per_doc.append(items)
        if self.config.mode == "neural":
            self._neural_features(docs, per_doc)
        if self.senses is not None:
            self.senses.features(docs, per_doc)
        out = []
        for doc, items in zip(docs, per_doc, strict=True):
            items = [it for it in items if it.candidates]
            self._lexical_features(doc, items)
            if self.config.weights.pos:
                self._pos_features(doc, items)
            if self.config.weights.qualifier:
                for k, row in self.qualifiers.scores(items, qualifier_pairs(doc, items)).items():
                    items[k].qualifier = row
            out.append(self._links(doc, items, spans_per_doc is None))
            doc.user_data.pop("kgnlu_tokens", None)  # Token → Doc → list → Token: free the Doc by refcount
        return out

    def _given_mentions(self, doc, spans) -> list[Mention]:
        text = doc.user_data.get("kgnlu_text", doc.text)
        out = []
        for start, end in spans:
            if not 0 <= start < end <= len(text):
                raise ConfigError(f"span ({start}, {end}) is outside the text (length {len(text)})")
            span = doc.char_span(start, end, alignment_mode="expand")
            if span is None:
                continue
            key = alias_key(text[start:end])
            variants = [Variant(key, None)] if key in self.index.aliases.index else []
            words = key.split(" ")
            prefix = " ".join(words[:-1])
            variants += self.detector._variants(prefix, " " if prefix else "", words[-1], key)
            initial = span.start == 0 or doc[span.start - 1].text in ".!?:;\"“"
            out.append(Mention(start, end, span.start, span.end, variants, text[start:start + 1].isupper(),
                               initial, fuzzy=not variants))
        return out

    def _token_word(self, tok) -> str | None:
        w = self._word_cache.get(tok.orth, 0)
        if w == 0:
            low = tok.lower_
            w = stem(low) if len(low) > 1 and tok.is_alpha and low not in STOP else None
            if len(self._word_cache) < 500_000:
                self._word_cache[tok.orth] = w
        return w

    def _lexical_features(self, doc, items: list[MentionItem]) -> None:
        lex = self.index.lexical
        if not items:
            return
        words = [self._token_word(t) for t in doc_tokens(doc)]
        k = self.config.context_tokens
        for it in items:
            m = it.mention
            own = {w for w in words[m.token_start:m.token_end] if w}
            ctx = [w for w in words[max(0, m.token_start - k):m.token_start] + words[m.token_end:m.token_end + k]
                   if w and w not in own]
            context = lex.context(ctx)
            it.lexical = [lex.similarity(context, c.entity) for c in it.candidates]

    def _pos_features(self, doc, items: list[MentionItem]) -> None:
        """The tagged word class of each mention's last token against its candidates' (:mod:`.pos_cue`)."""
        cue = self.pos_cue
        todo = [it for it in items if cue.needs_tag(it.candidates, it.mention.capitalised)]
        if not todo:
            return
        classes = cue.word_classes(doc, [it.mention.token_end - 1 for it in todo])
        for it, (word_class, confidence) in zip(todo, classes, strict=True):
            it.pos = [cue.agreement(word_class, confidence, c.entity, it.mention.capitalised)
                      for c in it.candidates]

    def _neural_features(self, docs, per_doc: list[list[MentionItem]]) -> None:
        """Segment embeddings as mention contexts; dense candidates; cosine features."""
        seg_texts: list[str] = []
        seg_of: list[list[int]] = []  # per doc: segment index of each token
        n = self.config.segment_tokens
        for doc in docs:
            bounds = list(range(0, len(doc), n)) or [0]
            index_of_token = []
            for s, lo in enumerate(bounds):
                hi = min(lo + n, len(doc))
                seg_texts.append(doc[lo:hi].text if hi > lo else "")
                index_of_token.extend([len(seg_texts) - 1] * (hi - lo))
                del s
            seg_of.append(index_of_token)
        vectors = self.encoder.encode([_SURROGATE.sub("\ufffd", t) for t in seg_texts])
        need_dense = [(d, it) for d, items in enumerate(per_doc) for it in items
                      if self.dense is not None and (not it.candidates or it.mention.from_ner)]
        if need_dense:
            surf = self.encoder.encode([it.key for _, it in need_dense])
            queries = []
            for (d, it), s in zip(need_dense, surf, strict=True):
                q = s + vectors[seg_of[d][it.mention.token_start]] * 0.5
                queries.append(q / max(np.linalg.norm(q), 1e-6))
            for (_, it), hits in zip(need_dense, self.dense.search(np.asarray(queries), self.config.dense_k),
                                     strict=True):
                have = {c.entity for c in it.candidates}
                for e, score in hits:
                    if score >= self.config.dense_min_score and e not in have:
                        it.candidates.append(CandidateInfo(int(self.index.canonical[e]), 0.0, "dense", score))
        wanted = {c.entity for items in per_doc for it in items for c in it.candidates}
        self.embeddings.ensure(sorted(wanted), self.encoder)
        for d, items in enumerate(per_doc):
            for it in items:
                if not it.candidates:
                    continue
                ctx = vectors[seg_of[d][min(it.mention.token_start, len(seg_of[d]) - 1)]] \
                    if seg_of[d] else np.zeros(self.encoder.dim, np.float32)
                ents = self.embeddings.get([c.entity for c in it.candidates])
                it.neural = (ents @ ctx).tolist()

    def _links(self, doc, items: list[MentionItem], apply_nil: bool) -> list[Link]:
        text = doc.user_data.get("kgnlu_text", doc.text)
        ranked = self.disambiguator.rank(items)
        links = []
        for it, scored in zip(items, ranked, strict=True):
            if not scored:
                continue
            best, score = scored[0]
            if apply_nil and score < self.config.nil_threshold:
                continue
            m = it.mention
            cands = tuple(Candidate(self._ids[c.entity], float(s), float(c.prior), c.source)
                          for c, s in scored)
            links.append(Link(m.start, m.end, text[m.start:m.end], self._ids[best.entity],
                              float(score), cands))
        return links


def _cluster_text(index: LinkerIndex):
    """Text to embed for a cluster representative: its own text plus its sameAs members'."""
    members: dict[int, list[int]] = {}
    canon = index.canonical
    for e in np.flatnonzero(canon != np.arange(len(canon))).tolist():
        members.setdefault(int(canon[e]), []).append(e)

    def text_of(e: int) -> str:
        parts = [index.texts[e]] + [index.texts[m].split(": ", 1)[-1] for m in members.get(e, ())]
        return " ".join(parts)

    return text_of
