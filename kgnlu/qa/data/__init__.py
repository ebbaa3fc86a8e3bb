"""QA data sets built from a knowledge graph: MetaQA-style multi-hop questions (``kgnlu data make-qa``)
and the country → capital multiple-choice set used by the few-shot evaluation."""
