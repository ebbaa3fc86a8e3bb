"""English function words with the Universal POS tag they nearly always take (UD English
conventions): the tagger's weak labels for words WordNet does not cover. Words whose tag depends on
context ("that", "to", "as", "be", "have", "do", "there") are left out: the tagger learns them
from context, and a label here would teach it to ignore context."""

from __future__ import annotations

_WORDS = {
    "DET": "the a an this these those every each either neither no some any all both another such",
    "PRON": "i me my mine myself you your yours yourself yourselves he him his himself she her hers herself it "
            "its itself we us our ours ourselves they them their theirs themselves who whom whose someone "
            "somebody something anyone anybody anything everyone everybody everything nobody nothing one",
    "ADP": "of in on at by for with from into onto upon about above across after against along among around "
           "before behind below beneath beside between beyond during except inside near off outside over past "
           "through throughout toward towards under underneath until unlike via within without",
    "CCONJ": "and or but nor yet plus",
    "SCONJ": "because although though while whereas unless whether if since once",
    "AUX": "can could may might must shall should will would 'll 'd ca wo",
    "PART": "not n't 's",
    "ADV": "very too also just only even still already never always often sometimes here then now soon "
           "however perhaps maybe quite rather almost again ever",
    "INTJ": "yes oh hello hi wow ok okay please thanks",
    "NUM": "two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
           "seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety hundred thousand "
           "million billion",
}
CLOSED: dict[str, str] = {w: tag for tag, words in _WORDS.items() for w in words.split()}
# contracted auxiliaries are AUX whatever they attach to
CLOSED.update({"'re": "AUX", "'ve": "AUX", "'m": "AUX"})
