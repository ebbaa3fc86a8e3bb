"""Question templates per relation path (MetaQA-style), WordNet and GeoNames.

A path is a tuple of relation external ids walked from the topic entity; ``^-1`` walks a relation
backwards (``gnrel:capital^-1``: from a capital city to its country). WordNet writes both
directions of its pointers (hypernym and hyponym, part holonym and part meronym), so WordNet paths
need no inverse steps. Each path has several ``train`` paraphrases (used for train, dev and test)
and ``heldout`` ones used only by the paraphrase-test split, so that split measures whether a
model learned the relation rather than the wording.

Every template holds ``{topic}`` exactly once and never at the start, so the topic label is
inserted verbatim (no capitalisation) and ``topic_span`` slices the question back to it.
"""

from __future__ import annotations

from dataclasses import dataclass

from kgnlu.errors import ConfigError

PLACEHOLDER = "{topic}"
INVERSE = "^-1"


@dataclass(frozen=True)
class PathTemplates:
    name: str  # short and unique: the key of counts and template ids
    relations: tuple[str, ...]  # relation external ids; "^-1" suffix = walk backwards
    topic_kind: str  # topics are entities whose kind starts with this ("wordnet:noun.", "geonames:city")
    train: tuple[str, ...]
    heldout: tuple[str, ...]

    def __post_init__(self) -> None:
        for text in self.train + self.heldout:
            if text.count(PLACEHOLDER) != 1 or text.startswith(PLACEHOLDER):
                raise ConfigError(f"template {text!r} of {self.name} must hold {PLACEHOLDER} once, not first")
        if not self.train or not self.heldout:
            raise ConfigError(f"path {self.name} needs train and held-out templates")
        if set(self.train) & set(self.heldout):
            raise ConfigError(f"path {self.name}: a template is both train and held-out")

    @property
    def hops(self) -> int:
        return len(self.relations)

    def template_ids(self, heldout: bool) -> list[tuple[str, str]]:
        """(template id, text): ids ``NAME/tK`` for train templates and ``NAME/pK`` for held-out ones."""
        texts, tag = (self.heldout, "p") if heldout else (self.train, "t")
        return [(f"{self.name}/{tag}{i}", t) for i, t in enumerate(texts)]


def split_step(step: str) -> tuple[str, bool]:
    """``"gnrel:capital^-1"`` → ("gnrel:capital", False); a plain id walks forwards (True)."""
    return (step[: -len(INVERSE)], False) if step.endswith(INVERSE) else (step, True)


def render(template: str, label: str) -> tuple[str, tuple[int, int]]:
    """The question and the character span of the topic label in it (the label is never formatted,
    so braces or other template syntax inside a label stay literal text)."""
    before, _, after = template.partition(PLACEHOLDER)
    return before + label + after, (len(before), len(before) + len(label))


NOUN = "wordnet:noun."
P = PathTemplates

WORDNET: list[PathTemplates] = [
    # ---- 1 hop
    P("hypernym", ("wnrel:hypernym",), NOUN,
      ("What is {topic} a kind of?", "What is the hypernym of {topic}?",
       "Which broader category does {topic} belong to?", "What is a more general term for {topic}?"),
      ("The term {topic} names a type of what?", "What class of things includes {topic}?")),
    P("hyponym", ("wnrel:hyponym",), NOUN,
      ("What are the kinds of {topic}?", "What are the hyponyms of {topic}?",
       "Which more specific terms fall under {topic}?", "Name a type of {topic}."),
      ("What things count as a sort of {topic}?", "Give a subtype of {topic}.")),
    P("instance_of", ("wnrel:instance_hypernym",), NOUN,
      ("What is {topic} an instance of?", "Of which class is {topic} an instance?",
       "What general category is {topic} an example of?"),
      ("What sort of thing is {topic}?",)),
    P("instances", ("wnrel:instance_hyponym",), NOUN,
      ("What are the instances of {topic}?", "Name an instance of {topic}.",
       "Which individual things are examples of {topic}?"),
      ("Give a specific example of {topic}.",)),
    P("part_holonym", ("wnrel:part_holonym",), NOUN,
      ("What is {topic} a part of?", "Which whole has {topic} as a part?",
       "What contains {topic} as one of its parts?"),
      ("Of what larger thing does {topic} form a part?",)),
    P("part_meronym", ("wnrel:part_meronym",), NOUN,
      ("What are the parts of {topic}?", "What parts does {topic} have?", "Name a part of {topic}."),
      ("Which components make up {topic}?",)),
    P("member_holonym", ("wnrel:member_holonym",), NOUN,
      ("What group is {topic} a member of?", "Which collection includes {topic} as a member?",
       "To what group does {topic} belong?"),
      ("Of which body or group is {topic} one member?",)),
    P("member_meronym", ("wnrel:member_meronym",), NOUN,
      ("What are the members of {topic}?", "Who or what belongs to {topic}?", "Name a member of {topic}."),
      ("Which things are counted among the members of {topic}?",)),
    P("substance_meronym", ("wnrel:substance_meronym",), NOUN,
      ("What is {topic} made of?", "What substance does {topic} contain?",
       "Which material is {topic} composed of?"),
      ("From what stuff is {topic} formed?",)),
    P("substance_holonym", ("wnrel:substance_holonym",), NOUN,
      ("What is made from {topic}?", "Which thing contains {topic} as a substance?",
       "What has {topic} as an ingredient?"),
      ("In what is {topic} found as a constituent?",)),
    P("domain_topic", ("wnrel:domain_topic",), NOUN,
      ("What field is {topic} a term of?", "In which domain is {topic} used?",
       "What subject area does {topic} belong to?"),
      ("Which discipline uses the term {topic}?",)),
    # ---- 2 hops
    P("hypernym.hypernym", ("wnrel:hypernym", "wnrel:hypernym"), NOUN,
      ("What is the hypernym of the hypernym of {topic}?",
       "What broader category includes the category of {topic}?",
       "Going two levels up from {topic}, what category do you reach?"),
      ("What is the grandparent category of {topic}?",)),
    P("hypernym.hyponym", ("wnrel:hypernym", "wnrel:hyponym"), NOUN,
      ("What shares a hypernym with {topic}?", "Which terms are co-hyponyms of {topic}?",
       "What are the other kinds of the category of {topic}?"),
      ("Name something that is the same kind of thing as {topic}.",)),
    P("hypernym.part_holonym", ("wnrel:hypernym", "wnrel:part_holonym"), NOUN,
      ("What is the category of {topic} a part of?", "Which whole has the hypernym of {topic} as a part?",
       "The category that {topic} belongs to is part of what?"),
      ("Of what larger thing is the broader class of {topic} a part?",)),
    P("part_holonym.hypernym", ("wnrel:part_holonym", "wnrel:hypernym"), NOUN,
      ("What kind of thing is the whole that {topic} is part of?",
       "What is the hypernym of the thing {topic} is a part of?",
       "What category does the whole containing {topic} belong to?"),
      ("The thing that has {topic} as a part is a type of what?",)),
    P("part_meronym.hypernym", ("wnrel:part_meronym", "wnrel:hypernym"), NOUN,
      ("What kinds of things are the parts of {topic}?", "What are the hypernyms of the parts of {topic}?",
       "Which categories do the parts of {topic} belong to?"),
      ("The components of {topic} are types of what?",)),
    P("member_holonym.hypernym", ("wnrel:member_holonym", "wnrel:hypernym"), NOUN,
      ("What kind of group is {topic} a member of?", "What is the hypernym of the group that {topic} belongs to?",
       "The group including {topic} is a kind of what?"),
      ("What category does the collection containing {topic} fall under?",)),
    P("instance_of.hypernym", ("wnrel:instance_hypernym", "wnrel:hypernym"), NOUN,
      ("What is the broader category of the class {topic} is an instance of?",
       "What is the hypernym of what {topic} is an instance of?",
       "The class of which {topic} is an instance is a kind of what?"),
      ("What general kind covers the sort of thing {topic} is?",)),
    P("hypernym.member_holonym", ("wnrel:hypernym", "wnrel:member_holonym"), NOUN,
      ("What group is the category of {topic} a member of?",
       "Which collection includes the hypernym of {topic} as a member?",
       "The broader category of {topic} belongs to which group?"),
      ("Of which group is the general class of {topic} one member?",)),
    # ---- 3 hops
    P("hypernym.hypernym.hypernym", ("wnrel:hypernym", "wnrel:hypernym", "wnrel:hypernym"), NOUN,
      ("What is the hypernym of the hypernym of the hypernym of {topic}?",
       "Going three levels up from {topic}, what category do you reach?",
       "What is the great-grandparent category of {topic}?"),
      ("What class lies three steps above {topic} in the hierarchy?",)),
    P("part_holonym.hypernym.hypernym", ("wnrel:part_holonym", "wnrel:hypernym", "wnrel:hypernym"), NOUN,
      ("What is the grandparent category of the whole that {topic} is part of?",
       "What is the hypernym of the hypernym of the thing {topic} is a part of?",
       "Going two levels up from the whole containing {topic}, what category do you reach?"),
      ("The thing having {topic} as a part belongs, two levels up, to which class?",)),
    P("member_holonym.hypernym.hypernym", ("wnrel:member_holonym", "wnrel:hypernym", "wnrel:hypernym"), NOUN,
      ("What is the grandparent category of the group {topic} is a member of?",
       "What is the hypernym of the hypernym of the group that {topic} belongs to?",
       "Going two levels up from the group including {topic}, what category do you reach?"),
      ("The collection containing {topic} belongs, two levels up, to which class?",)),
    P("instance_of.hypernym.hypernym", ("wnrel:instance_hypernym", "wnrel:hypernym", "wnrel:hypernym"), NOUN,
      ("What is the grandparent category of the class {topic} is an instance of?",
       "What is the hypernym of the hypernym of what {topic} is an instance of?",
       "Going two levels up from the class of {topic}, what category do you reach?"),
      ("The sort of thing {topic} is belongs, two levels up, to which class?",)),
    P("hypernym.hypernym.part_holonym", ("wnrel:hypernym", "wnrel:hypernym", "wnrel:part_holonym"), NOUN,
      ("What is the grandparent category of {topic} a part of?",
       "Which whole has the hypernym of the hypernym of {topic} as a part?",
       "Two levels above {topic}, the category reached is part of what?"),
      ("Of what larger thing is the class two steps above {topic} a part?",)),
]

CITY, COUNTRY, PLACE = "geonames:city", "geonames:country", "geonames:"

GEONAMES: list[PathTemplates] = [
    # ---- 1 hop
    P("country", ("gnrel:country",), PLACE,
      ("Which country is {topic} in?", "In what country is {topic} located?",
       "What country does {topic} belong to?", "Where is {topic}? Name the country."),
      ("Name the nation that contains {topic}.", "In which nation does one find {topic}?")),
    P("capital", ("gnrel:capital",), COUNTRY,
      ("What is the capital of {topic}?", "Which city is the capital of {topic}?",
       "Name the capital city of {topic}."),
      ("Where is the seat of government of {topic}?",)),
    P("capital_of", ("gnrel:capital^-1",), CITY,
      ("Which country has {topic} as its capital?", "Of which country is {topic} the capital?",
       "What country is governed from {topic}?"),
      ("Name the nation whose capital city is {topic}.",)),
    P("continent", ("gnrel:continent",), COUNTRY,
      ("Which continent is {topic} on?", "On what continent is {topic}?",
       "What continent does {topic} belong to?"),
      ("Name the continent where {topic} lies.",)),
    P("neighbour", ("gnrel:neighbour",), COUNTRY,
      ("Which countries border {topic}?", "What are the neighbouring countries of {topic}?",
       "Name a country that shares a border with {topic}."),
      ("Which nations are adjacent to {topic}?",)),
    P("us_state", ("gnrel:us_state",), CITY,
      ("Which US state is {topic} in?", "In what state of the United States is {topic}?",
       "What state is {topic} located in?"),
      ("Name the American state that contains {topic}.",)),
    P("cities", ("gnrel:country^-1",), COUNTRY,
      ("Which cities are in {topic}?", "Name a city in {topic}.", "What cities does {topic} have?"),
      ("Which towns lie within {topic}?",)),
    # ---- 2 hops
    P("country.continent", ("gnrel:country", "gnrel:continent"), CITY,
      ("On which continent is the country containing {topic}?", "What continent is {topic}'s country part of?",
       "Which continent is the country of {topic} on?"),
      ("In which continent does the nation of {topic} lie?",)),
    P("country.capital", ("gnrel:country", "gnrel:capital"), CITY,
      ("What is the capital of the country where {topic} is?",
       "Which city is the capital of the country containing {topic}?", "What is the capital of {topic}'s country?"),
      ("Name the capital of the nation in which {topic} lies.",)),
    P("country.neighbour", ("gnrel:country", "gnrel:neighbour"), CITY,
      ("Which countries border the country where {topic} is?",
       "What are the neighbours of the country containing {topic}?", "Name a country bordering {topic}'s country."),
      ("Which nations are adjacent to the nation that {topic} is in?",)),
    P("capital_of.neighbour", ("gnrel:capital^-1", "gnrel:neighbour"), CITY,
      ("Which countries border the country whose capital is {topic}?",
       "What are the neighbours of the country governed from {topic}?",
       "Name a country bordering the nation with capital {topic}."),
      ("Which nations are adjacent to the state whose capital city is {topic}?",)),
    P("capital_of.continent", ("gnrel:capital^-1", "gnrel:continent"), CITY,
      ("On which continent is the country whose capital is {topic}?",
       "What continent is the country governed from {topic} on?",
       "Which continent holds the nation with capital {topic}?"),
      ("Where, by continent, is the country that has {topic} as its capital?",)),
    P("neighbour.capital", ("gnrel:neighbour", "gnrel:capital"), COUNTRY,
      ("What are the capitals of the countries bordering {topic}?", "Name the capital of a country next to {topic}.",
       "Which cities are capitals of {topic}'s neighbours?"),
      ("What are the seats of government of the nations adjacent to {topic}?",)),
    P("neighbour.continent", ("gnrel:neighbour", "gnrel:continent"), COUNTRY,
      ("On which continents are the neighbours of {topic}?",
       "What continents are the countries bordering {topic} on?",
       "Which continents hold the neighbouring countries of {topic}?"),
      ("Where, by continent, are the nations adjacent to {topic}?",)),
    P("neighbour.neighbour", ("gnrel:neighbour", "gnrel:neighbour"), COUNTRY,
      ("Which countries border the neighbours of {topic}?",
       "What countries share a border with a country bordering {topic}?",
       "Name a neighbour of a neighbouring country of {topic}."),
      ("Which nations are adjacent to the nations adjacent to {topic}?",)),
    # ---- 3 hops
    P("country.neighbour.capital", ("gnrel:country", "gnrel:neighbour", "gnrel:capital"), CITY,
      ("What are the capitals of the countries bordering the country of {topic}?",
       "Name the capital of a country next to the country containing {topic}.",
       "Which cities are capitals of the neighbours of {topic}'s country?"),
      ("What are the seats of government of the nations adjacent to the nation of {topic}?",)),
    P("country.neighbour.continent", ("gnrel:country", "gnrel:neighbour", "gnrel:continent"), CITY,
      ("On which continents are the countries bordering the country of {topic}?",
       "What continents are the neighbours of {topic}'s country on?",
       "Which continents hold the countries next to the country containing {topic}?"),
      ("Where, by continent, are the nations adjacent to the nation of {topic}?",)),
    P("capital_of.neighbour.capital", ("gnrel:capital^-1", "gnrel:neighbour", "gnrel:capital"), CITY,
      ("What are the capitals of the countries bordering the country whose capital is {topic}?",
       "Name the capital of a country next to the nation governed from {topic}.",
       "Which cities are capitals of the neighbours of the country with capital {topic}?"),
      ("What are the seats of government of the nations adjacent to the state run from {topic}?",)),
    P("neighbour.neighbour.capital", ("gnrel:neighbour", "gnrel:neighbour", "gnrel:capital"), COUNTRY,
      ("What are the capitals of the countries that border the neighbours of {topic}?",
       "Name the capital of a country bordering a neighbour of {topic}.",
       "Which cities are capitals of the neighbours of {topic}'s neighbours?"),
      ("What are the seats of government of nations adjacent to those adjacent to {topic}?",)),
    P("capital_of.neighbour.continent", ("gnrel:capital^-1", "gnrel:neighbour", "gnrel:continent"), CITY,
      ("On which continents are the countries bordering the country whose capital is {topic}?",
       "What continents are the neighbours of the country governed from {topic} on?",
       "Which continents hold the countries next to the nation with capital {topic}?"),
      ("Where, by continent, are the nations adjacent to the state run from {topic}?",)),
]

TEMPLATES: list[PathTemplates] = WORDNET + GEONAMES


def _check_unique() -> None:
    names = [p.name for p in TEMPLATES]
    if len(set(names)) != len(names):
        raise ConfigError("template path names must be unique")


_check_unique()
