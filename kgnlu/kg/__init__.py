"""The knowledge graph: sources, builder, on-disk format, operations, linker, embeddings."""

from kgnlu.kg.graph import KnowledgeGraph

__all__ = ["KnowledgeGraph"]
