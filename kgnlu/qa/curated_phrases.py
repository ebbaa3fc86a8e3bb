"""Noun phrases for the relations of vocabularies kgnlu builds itself (WordNet pointers, GeoNames
relations) or that every RDF graph shares (``rdf:type``, ``rdfs:subClassOf``, ``owl:sameAs``).

Each (relation external id, forward) maps to noun-phrase patterns describing the answer seen from
the entity ``{x}`` the step starts at; ``{t}`` is the answer side's type word. Their labels alone
read badly ("part holonym", "instance hypernym"), so these phrases say what the relation means.
Any other relation is worded from its label or local name (:mod:`kgnlu.qa.phrasing`).

The phrases describe meanings, not the QA data's question templates: none shares a five-word run
with a held-out template (tests/qa/test_retrieval.py checks).
"""

from __future__ import annotations

PHRASES: dict[tuple[str, bool], tuple[str, ...]] = {
    # ---- GeoNames
    ("gnrel:country", True): ("the country of {x}", "the country where {x} is located", "the country containing {x}"),
    ("gnrel:country", False): ("the cities in {x}", "the cities located in the country {x}",
                               "the places that are in {x}"),
    ("gnrel:capital", True): ("the capital of {x}", "the capital city of {x}", "the city that is the capital of {x}"),
    ("gnrel:capital", False): ("the country whose capital is {x}", "the country with capital city {x}",
                               "the country for which {x} serves as capital"),
    ("gnrel:continent", True): ("the continent of {x}", "the continent where {x} is", "the continent {x} is on"),
    ("gnrel:continent", False): ("the countries on the continent {x}", "the countries located in {x}"),
    ("gnrel:neighbour", True): ("the countries bordering {x}", "the neighbouring countries of {x}",
                                "the countries next to {x}", "the neighbours of {x}"),
    ("gnrel:neighbour", False): ("the countries bordering {x}", "the neighbouring countries of {x}"),
    ("gnrel:us_state", True): ("the US state of {x}", "the state of the USA containing {x}"),
    ("gnrel:us_state", False): ("the cities in the US state {x}",),
    # ---- WordNet, synset pointers
    ("wnrel:hypernym", True): ("the hypernym of {x}", "the superordinate category of {x}",
                               "the more general concept covering {x}", "the category {x} falls in"),
    ("wnrel:hypernym", False): ("the hyponyms of {x}", "the specific kinds of {x}", "the types of {x}"),
    ("wnrel:hyponym", True): ("the hyponyms of {x}", "the specific kinds of {x}", "the types of {x}"),
    ("wnrel:hyponym", False): ("the hypernym of {x}", "the superordinate category of {x}",
                               "the more general concept covering {x}"),
    ("wnrel:instance_hypernym", True): ("the class {x} is an instance of", "the type of which {x} is an example"),
    ("wnrel:instance_hypernym", False): ("the instances of {x}", "the individual examples of {x}"),
    ("wnrel:instance_hyponym", True): ("the instances of {x}", "the individual examples of {x}"),
    ("wnrel:instance_hyponym", False): ("the class {x} is an instance of",),
    ("wnrel:part_holonym", True): ("the whole that {x} is part of", "the object that includes {x} as a component",
                                   "the larger object including {x}"),
    ("wnrel:part_holonym", False): ("the parts of {x}", "the pieces of {x}"),
    ("wnrel:part_meronym", True): ("the parts of {x}", "the pieces of {x}", "the constituent parts of {x}"),
    ("wnrel:part_meronym", False): ("the whole that {x} is part of",),
    ("wnrel:member_holonym", True): ("the group {x} is a member of", "the group with {x} among its members",
                                     "the collection {x} belongs to"),
    ("wnrel:member_holonym", False): ("the members of {x}",),
    ("wnrel:member_meronym", True): ("the members of {x}", "the things belonging to the group {x}"),
    ("wnrel:member_meronym", False): ("the group {x} is a member of",),
    ("wnrel:substance_meronym", True): ("the substance {x} is made of", "the material of {x}",
                                        "the ingredients of {x}"),
    ("wnrel:substance_meronym", False): ("the things made from {x}",),
    ("wnrel:substance_holonym", True): ("the things made from {x}", "the thing containing the substance {x}",
                                        "the products made of {x}"),
    ("wnrel:substance_holonym", False): ("the substance {x} is made of",),
    ("wnrel:domain_topic", True): ("the topic domain of {x}", "the field of study {x} belongs to",
                                   "the subject in which {x} is a term"),
    ("wnrel:domain_topic", False): ("the terms of the field {x}",),
    ("wnrel:domain_topic_member", True): ("the terms of the field {x}",),
    ("wnrel:domain_topic_member", False): ("the topic domain of {x}",),
    ("wnrel:domain_region", True): ("the region where the term {x} is used", "the region {x} is associated with"),
    ("wnrel:domain_region", False): ("the terms associated with the region {x}",),
    ("wnrel:domain_region_member", True): ("the terms associated with the region {x}",),
    ("wnrel:domain_region_member", False): ("the region where the term {x} is used",),
    ("wnrel:domain_usage", True): ("the usage label of {x}", "the kind of usage {x} belongs to"),
    ("wnrel:domain_usage", False): ("the words with the usage label {x}",),
    ("wnrel:domain_usage_member", True): ("the words with the usage label {x}",),
    ("wnrel:domain_usage_member", False): ("the usage label of {x}",),
    ("wnrel:attribute", True): ("the attribute {x} is a value of", "the quality {x} describes"),
    ("wnrel:attribute", False): ("the values of the attribute {x}",),
    ("wnrel:entailment", True): ("what {x} entails", "the action that doing {x} implies"),
    ("wnrel:entailment", False): ("the actions that entail {x}",),
    ("wnrel:cause", True): ("what {x} causes", "the result that {x} brings about"),
    ("wnrel:cause", False): ("what causes {x}",),
    ("wnrel:similar_to", True): ("the adjectives similar to {x}", "the words meaning nearly the same as {x}"),
    ("wnrel:similar_to", False): ("the adjectives similar to {x}",),
    ("wnrel:also_see", True): ("the related words of {x}",),
    ("wnrel:also_see", False): ("the related words of {x}",),
    ("wnrel:verb_group", True): ("the verbs of a similar sense as {x}",),
    ("wnrel:verb_group", False): ("the verbs of a similar sense as {x}",),
    # ---- WordNet, word-sense pointers (between synsets here)
    ("wnrel:sense/antonym", True): ("the opposite of {x}", "the antonym of {x}", "the word opposite in meaning to {x}"),
    ("wnrel:sense/antonym", False): ("the opposite of {x}", "the antonym of {x}"),
    ("wnrel:sense/derivation", True): ("the word derived from {x}", "the related form of {x}"),
    ("wnrel:sense/derivation", False): ("the word derived from {x}", "the related form of {x}"),
    ("wnrel:sense/pertainym", True): ("the noun {x} pertains to", "the noun {x} relates to"),
    ("wnrel:sense/pertainym", False): ("the adjectives pertaining to {x}",),
    # ---- vocabularies every RDF graph shares
    ("rdf:type", True): ("the type of {x}", "the class of {x}", "the kind of thing {x} is"),
    ("rdf:type", False): ("the instances of {x}", "the things of type {x}", "the members of the class {x}"),
    ("rdfs:subClassOf", True): ("the superclass of {x}", "the broader class of {x}"),
    ("rdfs:subClassOf", False): ("the subclasses of {x}", "the narrower classes of {x}"),
    ("owl:sameAs", True): ("the same thing as {x}",),
    ("owl:sameAs", False): ("the same thing as {x}",),
    ("skos:broader", True): ("the broader concept of {x}",),
    ("skos:broader", False): ("the narrower concepts of {x}",),
    ("skos:narrower", True): ("the narrower concepts of {x}",),
    ("skos:narrower", False): ("the broader concept of {x}",),
}


# one-step question frames for the relations whose direction is easy to confuse (a kind of X / X is
# a kind of): the nested noun phrases above cannot say where the topic stands in the question
QUESTIONS: dict[tuple[str, bool], tuple[str, ...]] = {
    ("wnrel:hypernym", True): ("{x} is a kind of what?", "What is {x} a type of?", "What kind of thing is {x}?",
                               "What category does {x} belong to?", "{x} is a sort of what?"),
    ("wnrel:hyponym", True): ("What kinds of {x} are there?", "Name a type of {x}.", "What are some sorts of {x}?",
                              "Which things are a kind of {x}?", "What is a kind of {x}?"),
    ("wnrel:instance_hypernym", True): ("What is {x}?", "What was {x}?", "{x} is an example of what?",
                                        "What kind of thing is {x}?"),
    ("wnrel:instance_hyponym", True): ("Name a {x}.", "Who or what is a {x}?", "Give an example of a {x}.",
                                       "Which things are {x}s?"),
    ("wnrel:part_holonym", True): ("What is {x} part of?", "{x} is a part of what?", "What has {x} as a part?"),
    ("wnrel:part_meronym", True): ("What are the parts of {x}?", "What does {x} consist of?",
                                   "Name a part of {x}.", "What is part of {x}?"),
    ("wnrel:member_holonym", True): ("What group is {x} a member of?", "{x} belongs to which group?",
                                     "What is {x} a member of?"),
    ("wnrel:member_meronym", True): ("Who are the members of {x}?", "What belongs to {x}?", "Name a member of {x}."),
    ("wnrel:substance_meronym", True): ("What is {x} made of?", "What is {x} made from?",
                                        "What material is in {x}?"),
    ("wnrel:substance_holonym", True): ("What is made of {x}?", "What is made from {x}?",
                                        "What contains {x}?"),
    ("wnrel:domain_topic", True): ("{x} is a term from which field?", "What field does {x} belong to?"),
    ("wnrel:domain_topic_member", True): ("What are some {x} terms?", "Name a term used in {x}."),
    ("wnrel:domain_region", True): ("Where does {x} come from?", "In which country is {x} used?"),
    ("wnrel:domain_region_member", True): ("What things are associated with {x}?", "Name something from {x}."),
    ("wnrel:sense/antonym", True): ("What is the opposite of {x}?", "What is the antonym of {x}?"),
    ("wnrel:entailment", True): ("What does {x} involve?", "What does doing {x} imply?"),
    ("wnrel:cause", True): ("What does {x} cause?", "{x} makes someone do what?"),
    ("wnrel:attribute", True): ("What quality is {x} a value of?", "What attribute does {x} describe?"),
    ("gnrel:country", True): ("Which country is {x} in?", "{x} is in which country?", "Where is {x}?"),
    ("gnrel:capital", True): ("What is the capital of {x}?", "What is {x}'s capital?"),
    ("gnrel:capital", False): ("{x} is the capital of which country?", "Which country has {x} as its capital?"),
    ("gnrel:continent", True): ("Which continent is {x} on?", "{x} is on which continent?"),
    ("gnrel:neighbour", True): ("Which countries border {x}?", "What are the neighbours of {x}?"),
    ("gnrel:us_state", True): ("Which state is {x} in?", "{x} is in which US state?"),
}

# words a question uses to name these relations (besides their labels): a mention made only of such
# words is the relation, not the topic ("the *opposite* of hot", "a *kind* of dog")
CUE_WORDS: dict[str, tuple[str, ...]] = {
    "wnrel:hypernym": ("kind", "type", "sort", "category", "class", "general"),
    "wnrel:hyponym": ("kind", "type", "sort", "subtype", "specific"),
    "wnrel:instance_hypernym": ("instance", "example"),
    "wnrel:instance_hyponym": ("instance", "example"),
    "wnrel:part_holonym": ("part", "whole", "component", "piece"),
    "wnrel:part_meronym": ("part", "component", "piece"),
    "wnrel:member_holonym": ("member", "group", "belong"),
    "wnrel:member_meronym": ("member", "group", "belong"),
    "wnrel:substance_holonym": ("made", "make", "material", "substance", "ingredient"),
    "wnrel:substance_meronym": ("made", "make", "material", "substance", "ingredient"),
    "wnrel:domain_topic": ("field", "domain", "topic"),
    "wnrel:sense/antonym": ("opposite", "antonym"),
    "wnrel:similar_to": ("similar", "synonym"),
    "wnrel:entailment": ("entail", "imply"),
    "wnrel:cause": ("cause",),
    "gnrel:neighbour": ("border", "neighbour", "neighbor", "adjacent"),
    "gnrel:capital": ("capital",),
    "gnrel:continent": ("continent",),
    "rdf:type": ("type", "class", "kind"),
}


def curated_phrases(relation_id: str, forward: bool) -> tuple[str, ...] | None:
    """Noun-phrase patterns for a known relation's step, None for any other relation."""
    return PHRASES.get((relation_id, forward))


def curated_questions(relation_id: str, forward: bool) -> tuple[str, ...]:
    """One-step question frames for a known relation's step (empty when there are none)."""
    return QUESTIONS.get((relation_id, forward), ())
