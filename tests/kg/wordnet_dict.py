"""A tiny WordNet 3.0 dict folder in the real file format (index.POS sorted, data.POS lines at the
byte offsets their synset offsets name, POS.exc exception lists): for tests of the random-access
lookup, and a stand-in WordNet for QA tests that must not depend on the installed one."""

from __future__ import annotations

from pathlib import Path

LICENCE = ["  1 This software and database is being provided to you, the LICENSEE, by",
           "  2 Princeton University under the following license."]
SS_TYPE = {"noun": "n", "verb": "v", "adj": "a", "adv": "r"}

# pos → [(key, lemmas, hypernym keys)], each list in file order; "@i" marks an instance hypernym
SYNSETS = {
    "noun": [
        ("entity", ["entity"], []),
        ("organism", ["organism", "being"], ["entity"]),
        ("person", ["person", "individual", "someone"], ["organism"]),
        ("educator", ["educator", "pedagogue"], ["person"]),
        ("professor", ["professor", "prof"], ["educator"]),
        ("animal", ["animal", "beast"], ["organism"]),
        ("dog", ["dog", "domestic_dog"], ["animal"]),
        ("frump", ["frump", "dog"], ["person"]),  # dog's second sense: a dull unattractive woman
        ("hotdog", ["hotdog", "dog"], ["entity"]),  # a third sense, beyond the two commonest
        ("location", ["location"], ["entity"]),
        ("city", ["city", "metropolis"], ["location"]),
        ("paris", ["Paris", "City_of_Light"], ["@i city"]),
        ("goose", ["goose"], ["animal"]),
        ("glass", ["glass"], ["entity"]),
        ("glasses", ["glasses", "spectacles"], ["entity"]),
        ("teach_n", ["Teach", "Edward_Teach"], ["person"]),
        ("lecturer", ["lecturer", "reader"], ["educator"]),
        ("scientist", ["scientist"], ["person"]),
        ("country", ["country", "state", "land"], ["location"]),
        ("capital", ["capital", "working_capital"], ["entity"]),  # the money sense first, as in WordNet
        ("business", ["business", "concern", "company"], ["organization"]),
        ("organization", ["organization", "organisation"], ["entity"]),
        ("package", ["package", "software_package"], ["entity"]),
        ("part", ["part", "portion"], ["entity"]),
        ("member", ["member"], ["person"]),
        ("maintainer", ["maintainer"], ["person"]),
        ("author", ["author", "writer"], ["person"]),
        ("office", ["office"], ["entity"]),
        ("works", ["works", "plant", "factory"], ["entity"]),
    ],
    "verb": [
        ("teach", ["teach", "instruct"], []),
        ("write", ["write"], []),
        ("depend", ["depend", "rely"], []),
        ("work", ["work"], []),
        ("found", ["found", "establish"], []),
        ("invent", ["invent"], []),
        ("locate", ["locate", "situate"], []),
        ("base", ["base", "establish"], []),
        ("employ", ["employ", "use"], []),
        ("belong", ["belong"], []),
        ("bear", ["bear"], []),
        ("make", ["make"], []),
        ("carry", ["carry", "transport"], []),
    ],
    "adj": [("big", ["big", "large"], [])],
    "adv": [("quickly", ["quickly", "rapidly"], [])],
}
EXCEPTIONS = {"noun": "geese goose\n",
              "verb": "born bear\nmade make\ntaught teach\nwrote write\nwritten write\nwrites write\n",
              "adj": "bigger big\n", "adv": ""}


def write_dict(folder: Path) -> Path:
    """index.POS and data.POS files in WordNet's format, each synset offset its line's byte offset."""
    folder.mkdir(parents=True, exist_ok=True)
    offsets: dict[str, int] = {}
    for pos, synsets in SYNSETS.items():
        at = sum(len(line) + 1 for line in LICENCE)  # ASCII only: characters are bytes
        lines = []
        def pointers(hypernyms, offset_of):
            return [f"{'@i' if h.startswith('@i ') else '@'} {offset_of(h.removeprefix('@i ')):08d}" for h in hypernyms]

        for key, lemmas, hypernyms in synsets:  # every field has a fixed width: offsets are known first
            offsets[key] = at
            at += len(_data_line(pos, 0, lemmas, pointers(hypernyms, lambda _: 0))) + 1
        for key, lemmas, hypernyms in synsets:
            lines.append(_data_line(pos, offsets[key], lemmas, pointers(hypernyms, offsets.__getitem__)))
        (folder / f"data.{pos}").write_text("\n".join(LICENCE + lines) + "\n", encoding="ascii")
        senses: dict[str, list[int]] = {}
        for key, lemmas, _ in synsets:
            for lemma in lemmas:
                senses.setdefault(lemma.lower(), []).append(offsets[key])
        index = [f"{lemma} {SS_TYPE[pos]} {len(offs)} 1 @ {len(offs)} 0 " + " ".join(f"{o:08d}" for o in offs)
                 for lemma, offs in sorted(senses.items())]
        (folder / f"index.{pos}").write_text("\n".join(LICENCE + index) + "\n", encoding="ascii")
        (folder / f"{pos}.exc").write_text(EXCEPTIONS[pos], encoding="ascii")
    return folder


def _data_line(pos: str, offset: int, lemmas: list[str], pointers: list[str]) -> str:
    words = " ".join(f"{w} 0" for w in lemmas)
    ptrs = " ".join(f"{p} {SS_TYPE[pos]} 0000" for p in pointers)
    return f"{offset:08d} 03 {SS_TYPE[pos]} {len(lemmas):02x} {words} {len(pointers):03d}" + \
        (f" {ptrs}" if ptrs else "") + " | a gloss  "


def tiny_wordnet(folder: Path):
    """A WordNetLookup over the tiny dict written into ``folder``."""
    from kgnlu.kg.sources.wordnet_lookup import WordNetLookup

    return WordNetLookup.open(write_dict(folder))
