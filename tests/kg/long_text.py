"""Long texts for the linker's windowing tests, and a memory probe run in its own interpreter.

    python -m tests.kg.long_text GRAPH CHARS [--stream]   # prints {"chars", "links", "seconds", "bytes_per_char"}

``bytes_per_char`` is the growth of peak RSS (``ru_maxrss``) while linking a CHARS-long text,
measured after the graph and linker are loaded and one window-sized text was linked (the linker's
working set), divided by CHARS: what linking costs per character of input, results included.
"""

from __future__ import annotations

import json
import random
import resource
import sys
import time

# names and words of tests/kg/linker_graph.py: about one mention every 25 characters
PLACES = ["Paris", "Texas", "France", "London", "New York City", "the United States", "New York"]
THINGS = ["the bank", "the river", "money", "a dog", "the city", "the City of Light"]
VERBS = ["walked past", "wrote about", "looked for", "talked about", "dreamed of"]


def text_of(chars: int, seed: int = 0) -> str:
    rng = random.Random(seed)
    out, size = [], 0
    while size < chars:
        s = (f"In {rng.randint(1800, 2020)} a traveller from {rng.choice(PLACES)} {rng.choice(VERBS)} "
             f"{rng.choice(THINGS)} near {rng.choice(PLACES)}, and later {rng.choice(VERBS)} {rng.choice(THINGS)}. ")
        if rng.random() < 0.05:
            s += "\n"
        out.append(s)
        size += len(s)
    return "".join(out)[:chars]


def peak_rss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # kilobytes on Linux


def main(graph: str, chars: int, stream: bool = False) -> dict:
    """``stream``: consume ``iter_links`` (links counted, not kept) instead of ``link``'s list."""
    from kgnlu.kg import KnowledgeGraph
    from kgnlu.kg.linker import EntityLinker

    linker = EntityLinker.from_graph(KnowledgeGraph.load(graph), mode="fast")
    text = text_of(chars)
    linker.link(text_of(linker.config.window_chars, seed=1))
    base, start = peak_rss(), time.perf_counter()
    n = sum(1 for _ in linker.iter_links(text)) if stream else len(linker.link(text))
    return {"chars": chars, "links": n, "stream": stream, "seconds": round(time.perf_counter() - start, 2),
            "bytes_per_char": (peak_rss() - base) / chars}


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1], int(sys.argv[2]), stream="--stream" in sys.argv[3:])))
