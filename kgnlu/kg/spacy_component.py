"""The ``kgnlu_linker`` spaCy component: entity links on ``doc._.kg_links``.

    nlp = spacy.blank("en")                    # or any pipeline; its NER spans are used too
    nlp.add_pipe("kgnlu_linker", config={"graph": "~/.cache/kgnlu/graphs/default", "mode": "fast"})
    doc = nlp("Paris, a city in Texas, ...")
    doc._.kg_links                             # [Link(start, end, surface, entity, score, candidates)]

Registered through the ``spacy_factories`` entry point in pyproject.toml, so spaCy finds it without
importing kgnlu first. spaCy imports this module whenever it builds a Language, so it imports
nothing heavy at module level: the linker loads when the component is made.
"""

from __future__ import annotations

from spacy.language import Language
from spacy.tokens import Doc

EXTENSION = "kg_links"

if not Doc.has_extension(EXTENSION):
    Doc.set_extension(EXTENSION, default=None)


class KgnluLinkerComponent:
    """Links each doc (its own tokens, plus ``doc.ents`` when an earlier NER set them)."""

    def __init__(self, nlp: Language, name: str, graph: str, mode: str, nil_threshold: float | None,
                 use_ner: bool):
        from kgnlu.kg import KnowledgeGraph
        from kgnlu.kg.linker import EntityLinker

        self.name = name
        self.linker = EntityLinker.from_graph(KnowledgeGraph.load(graph, verify=False), mode=mode,
                                              nil_threshold=nil_threshold)
        self.use_ner = use_ner

    def __call__(self, doc: Doc) -> Doc:
        doc._.set(EXTENSION, self.linker.link_doc(doc, use_ner=self.use_ner))
        return doc

    def pipe(self, docs, batch_size: int = 64):
        for batch in _chunks(docs, batch_size):
            for doc, links in zip(batch, self.linker.link_docs(batch, use_ner=self.use_ner),
                                  strict=True):
                doc._.set(EXTENSION, links)
                yield doc


def _chunks(items, n):
    batch = []
    for item in items:
        batch.append(item)
        if len(batch) == n:
            yield batch
            batch = []
    if batch:
        yield batch


@Language.factory(
    "kgnlu_linker",
    default_config={"graph": None, "mode": "fast", "nil_threshold": None, "use_ner": True},
)
def make_kgnlu_linker(nlp: Language, name: str, graph: str | None, mode: str,
                      nil_threshold: float | None, use_ner: bool) -> KgnluLinkerComponent:
    if not graph:
        from kgnlu.errors import ConfigError

        raise ConfigError('kgnlu_linker needs config={"graph": PATH}: a graph directory made by '
                          "`kgnlu graph build`")
    return KgnluLinkerComponent(nlp, name, str(graph), mode, nil_threshold, use_ner)
