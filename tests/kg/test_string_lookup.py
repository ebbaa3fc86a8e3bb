"""StringTable.find (issue 22): byte-order bisection with the top levels' keys kept, exact on
sorted tables and on tables read through a sort permutation, repeated queries included."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from kgnlu.kg.strings import StringTable, write_strings

texts = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=6)


@settings(max_examples=60, deadline=None)
@given(st.sets(texts, min_size=0, max_size=300), st.lists(texts, max_size=30), st.booleans())
def test_find_matches_a_dict_index(tmp_path_factory, strings, probes, stored_sorted):
    folder = tmp_path_factory.mktemp("t")
    items = sorted(strings) if stored_sorted else list(strings)
    write_strings(items, folder / "s")
    order = None if stored_sorted else np.asarray(sorted(range(len(items)), key=items.__getitem__), dtype=np.int32)
    table = StringTable(folder / "s", order=order)
    index = {s: i for i, s in enumerate(items)}
    for _ in range(2):  # the second pass reads the kept top-level keys
        for s in [*items, *probes]:
            assert table.find(s) == index.get(s, -1)


def test_a_lookup_reads_few_keys_from_a_large_table(tmp_path):
    items = [f"name {i:07d}" for i in range(200_000)]
    write_strings(items, tmp_path / "s")
    table = StringTable(tmp_path / "s")
    for s in items[::997]:
        assert table.find(s) == int(s[5:])
    # 200,000 strings: 18 levels; the first 14 levels' keys are kept after the queries above
    assert len(table._probe_cache) <= 2**14
    assert table.find("name 0123456") == 123456 and table.find("name 01234560") == -1
