"""An RDF line past the parser's 16 MiB buffer (issue 19, item 6: "a 50 MB single RDF line" ended
in "MemoryError: Reached the buffer maximal size") is an E010 ParseError naming the file and line
and what was expected, exit code 2, with nothing written. Through the real CLI, as a user would."""

from __future__ import annotations

import pytest

from tests.faults.test_bad_files import assert_user_error, kgnlu

HUGE = 20_000_000  # over the 16 MiB limit; the 50 MB of the report fails the same way, slower


@pytest.mark.parametrize("name", ["huge.nt", "huge.ttl", "huge.nt.gz"])
def test_a_line_past_the_parser_buffer_is_a_parse_error_naming_its_line(tmp_path, name):
    text = "<http://a> <http://b> <http://c> .\n" + f'<http://a> <http://l> "{"x" * HUGE}" .\n'
    if name.endswith(".gz"):
        import gzip

        (tmp_path / name).write_bytes(gzip.compress(text.encode(), compresslevel=1))
    else:
        (tmp_path / name).write_text(text, encoding="utf-8")
    done = kgnlu("graph", "build", name, "--out", "g", cwd=tmp_path)
    assert_user_error(done, "E010", f"{name}:2:", "bytes or more", "under 16 MiB")
    assert not (tmp_path / "g").exists() and not list(tmp_path.glob(".g*"))


def test_a_line_just_past_the_limit_that_reaches_the_parser_names_its_line(tmp_path):
    # Under the read-time cap when its end arrives, so pyoxigraph's parser meets it (and used to
    # raise a bare MemoryError).
    from kgnlu.errors import ParseError
    from kgnlu.kg.build import build_graph
    from kgnlu.kg.sources.rdf_formats import PARSER_LIMIT

    (tmp_path / "edge.nt").write_text("<http://a> <http://b> <http://c> .\n" * 3
                                      + f'<http://a> <http://l> "{"y" * (PARSER_LIMIT + 20_000)}" .\n',
                                      encoding="utf-8")
    with pytest.raises(ParseError, match=r"edge\.nt:4: a line of 16,797,2\d\d bytes"):
        build_graph([str(tmp_path / "edge.nt")], tmp_path / "g", store=False)
    assert not (tmp_path / "g").exists()


def test_a_long_line_under_the_limit_still_builds(tmp_path):
    (tmp_path / "long.nt").write_text(f'<http://a> <http://l> "{"z" * 2_000_000}" .\n<http://a> <http://b> <http://c> .\n',
                                      encoding="utf-8")
    done = kgnlu("graph", "build", "long.nt", "--out", "g", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
