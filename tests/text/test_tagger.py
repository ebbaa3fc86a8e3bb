"""kgnlu's part-of-speech tagger: the averaged perceptron learns ambiguous words from context with
partial labels, files are gzipped JSON checked on load, the weak labels trust only what WordNet
leaves in no doubt (a tiny dict in WordNet's format), and the shipped tagger tells the noun from
the verb in sentences it was not trained on."""

from __future__ import annotations

import gzip
import json

import pytest

from kgnlu.errors import DataMissingError, ParseError
from kgnlu.text.tagger import TAGS, PerceptronTagger, load_tagger
from kgnlu.text.tagger_training import WeakLabeller
from tests.kg.wordnet_dict import tiny_wordnet

# "fish" is a noun after a determiner and a verb after a pronoun subject; every other word is fixed
CORPUS = [
    ("the fish swim".split(), ["DET", "NOUN", "VERB"]),
    ("we fish daily".split(), ["PRON", "VERB", "ADV"]),
    ("a fish sleeps".split(), ["DET", "NOUN", "VERB"]),
    ("they fish often".split(), ["PRON", "VERB", "ADV"]),
]


def test_ambiguous_words_are_tagged_by_context():
    tagger = PerceptronTagger.train(CORPUS * 10, epochs=5)
    assert tagger.tag("the fish sleeps".split()) == ["DET", "NOUN", "VERB"]
    assert tagger.tag("we fish often".split()) == ["PRON", "VERB", "ADV"]


def test_unlabelled_tokens_give_context_but_never_update_weights():
    partial = [(tokens, [None, tags[1], None]) for tokens, tags in CORPUS] * 10
    tagger = PerceptronTagger.train(partial, epochs=5)
    assert not any("w=the" == f or "w=we" == f for f in tagger.weights)  # never a labelled position
    assert tagger.tag("a fish swim".split())[1] == "NOUN" and tagger.tag("they fish daily".split())[1] == "VERB"


def test_every_tag_is_a_universal_pos_tag():
    tagger = PerceptronTagger.train(CORPUS * 5, epochs=2)
    assert set(tagger.tag("zzq , 42 the".split())) <= set(TAGS)


def test_save_and_load_round_trip(tmp_path):
    tagger = PerceptronTagger.train(CORPUS * 10, epochs=3)
    path = tagger.save(tmp_path / "t.json.gz")
    again = PerceptronTagger.load(path)
    assert again.weights == tagger.weights and again.tag("the fish swim".split()) == tagger.tag("the fish swim".split())


@pytest.mark.parametrize("content", [b"not gzip", gzip.compress(b"{not json", mtime=0), gzip.compress(b"[1, 2]", mtime=0),
                                     gzip.compress(json.dumps({"format": "other", "weights": {}}).encode(), mtime=0)],
                         ids=["not-gzip", "not-json", "not-an-object", "another-format"])
def test_a_damaged_file_is_refused_with_a_coded_error(tmp_path, content):
    path = tmp_path / "t.json.gz"
    path.write_bytes(content)
    with pytest.raises(ParseError, match=r"t\.json\.gz"):
        PerceptronTagger.load(path)


def test_a_missing_file_says_how_to_make_one(tmp_path):
    with pytest.raises(DataMissingError, match="tagger_training"):
        PerceptronTagger.load(tmp_path / "none.json.gz")


def test_weak_labels_trust_only_what_wordnet_leaves_in_no_doubt(tmp_path):
    labeller = WeakLabeller(tiny_wordnet(tmp_path / "wn"))
    tokens = "The dog quickly glimpsed Zorblat 's big city , 42 times .".split()
    labels = labeller.label(tokens, ("VERB", {"find"}))
    assert labels[0] == "DET" and labels[1] == "NOUN"  # a noun only, in the tiny dict
    assert labels[2] == "ADV" and labels[7] == "NOUN" and labels[6] == "ADJ"
    assert labels[4] == "PROPN"  # capitalised, unknown to WordNet
    assert labels[8] == "PUNCT" and labels[9] == "NUM"
    assert labels[3] is None  # "glimpsed": not the target's lemma, unknown to the tiny dict: context only
    assert labeller.label("they found it".split())[1] == "VERB"  # a verb only, in the tiny dict
    target = labeller.label("we teach".split(), ("VERB", {"teach"}))
    assert target == ["PRON", "VERB"]


@pytest.mark.parametrize("sentence, word, tag", [
    ("We drove from Dallas to Paris .", "drove", "VERB"),
    ("The drive took three hours .", "drive", "NOUN"),
    ("They plant tomatoes every spring .", "plant", "VERB"),
    ("The plant needs water .", "plant", "NOUN"),
    ("She sat on the bank of the river .", "bank", "NOUN"),
    ("I want to run home .", "run", "VERB"),
    ("We met in the spring .", "spring", "NOUN"),  # a verb in WordNet's examples, a noun after "the"
    ("We will travel next spring .", "spring", "NOUN"),
    ("He works at the car plant .", "plant", "NOUN"),  # compound noun, not "car" + verb
    ("She makes bread every day .", "bread", "NOUN"),  # never ADV: the tag dictionary
    ("She trains every morning .", "trains", "VERB"),
])
def test_the_shipped_tagger_tells_nouns_from_verbs(sentence, word, tag):
    tokens = sentence.split()
    assert load_tagger().tag(tokens)[tokens.index(word)] == tag


def test_dictionary_classes_carry_context_to_words_never_seen_in_training(tmp_path):
    classes = {"fish": "NV", "cook": "NV", "the": "=DET", "a": "=DET", "we": "=PRON", "they": "=PRON"}
    lexicon = lambda word: classes.get(word.lower(), "?")  # noqa: E731
    with_lexicon = PerceptronTagger.train(CORPUS * 10, epochs=5, lexicon=lexicon)
    assert with_lexicon.tag("the cook sleeps".split())[1] == "NOUN"
    assert with_lexicon.tag("we cook daily".split())[1] == "VERB"
    path = with_lexicon.save(tmp_path / "t.json.gz")
    assert json.loads(gzip.decompress(path.read_bytes()))["lexicon"] == "wordnet"
    again = PerceptronTagger.load(path, lexicon=lexicon)
    assert again.tag("we cook daily".split()) == with_lexicon.tag("we cook daily".split())


def test_wordnet_classes_read_morphology_and_function_words(tmp_path):
    from kgnlu.text.lexicon import WordNetClasses

    classes = WordNetClasses(tiny_wordnet(tmp_path / "wn"))
    assert classes("dogs") == "N" and classes("taught") == "V" and classes("bigger") == "J"
    assert classes("the") == "=DET" and classes("42") == "-" and classes("zorblat") == "?"


def test_the_tag_dictionary_keeps_a_listed_word_to_its_classes_among_content_tags():
    classes = {"fish": "NV", "the": "=DET", "a": "=DET", "we": "=PRON", "they": "=PRON", "swim": "V",
               "sleeps": "V", "daily": "JR", "often": "R", "zorp": "N"}
    tagger = PerceptronTagger.train(CORPUS * 10, epochs=5, classes=classes)
    assert tagger.tag("the fish sleeps".split()) == ["DET", "NOUN", "VERB"]
    # "zorp" is listed as a noun only: after a pronoun subject the context says VERB, the dictionary no
    zorp = tagger.tag("we zorp often".split())[1]
    assert zorp != "VERB" and zorp in tagger._allowed("zorp", "N")
    assert tagger.tag("we blick often".split())[1] == "VERB"  # unlisted: context alone
    assert tagger._allowed("Zorp", "N") == tuple(t for t in TAGS if t in {
        "NOUN", "PROPN", "ADP", "AUX", "CCONJ", "DET", "INTJ", "PART", "PRON", "SCONJ"})
    assert {"ADJ", "NOUN", "VERB"} <= set(tagger._allowed("salted", "V"))  # a participle may be ADJ or NOUN
    margins = tagger.tag_with_margins("we zorp often".split())
    assert [t for t, _ in margins] == tagger.tag("we zorp often".split()) and all(m >= 0 for _, m in margins)


def test_weak_labels_from_neighbours_multiword_lemmas_and_gloss_heads(tmp_path):
    labeller = WeakLabeller(tiny_wordnet(tmp_path / "wn"))
    assert labeller.label("it 's big".split())[1] == "AUX" and labeller.label("the city 's dog".split())[2] == "PART"
    assert labeller.label("after we work".split())[0] == "SCONJ" and labeller.label("after the city".split())[0] == "ADP"
    assert labeller.label("which dog".split())[0] == "DET" and labeller.label("how big".split())[0] == "ADV"
    assert labeller.label("the working capital".split())[2] == "NOUN"  # a WordNet compound's head
    assert labeller.label("teach a dog".split(), gloss_of="VERB")[0] == "VERB"  # a verb gloss opens with its verb
    assert labeller.label("a big dog of the city".split(), gloss_of="NOUN")[2] == "NOUN"
