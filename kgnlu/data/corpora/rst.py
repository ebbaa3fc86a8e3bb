"""reStructuredText → prose paragraphs, in order (for the kernel documentation corpus).

Not a docutils parse (docutils is slow and fails on Sphinx-only directives); a line-based pass
that keeps what reads as English and drops what does not:

- dropped: section titles and their ``====`` rules, comments and directives (``.. toctree::``,
  ``.. code-block::``, ``.. kernel-doc::``, ``.. _label:``) with their indented bodies, literal
  blocks after ``::``, tables (grid and simple), and paragraphs that are mostly symbols (code);
- kept: paragraphs, list items (one paragraph each, marker removed), block quotes, and the bodies
  of admonitions (``.. note::``, ``.. warning::``, ...), which are prose;
- inline markup reduced to its text: ``code`` → code, :c:func:`kmalloc()` → kmalloc(),
  `text <url>`_ → text, *emphasis* → emphasis, |subst| → subst.
"""

from __future__ import annotations

import re

ADMONITIONS = frozenset({"note", "warning", "important", "tip", "attention", "hint", "caution",
                         "danger", "error", "admonition", "seealso"})
_RULE = re.compile(r"""^([=\-`:'"~^_*+#<>.])\1{2,}\s*$""")
_TABLE_BORDER = re.compile(r"^\s*(\+[-=+]+\+|=+(\s+=+)+)\s*$")
_DIRECTIVE = re.compile(r"^(\s*)\.\.(\s+([\w:-]+)::|\s|$)")
_BULLET = re.compile(r"^(\s*)([-*+•]|#\.|\(?\d+[.)]|\(?[a-zA-Z][.)])\s+")
_FIELD = re.compile(r"^:([\w\s-]+):\s*")

_INLINE = [
    (re.compile(r":[\w:+.-]+:`([^`<]*?)\s*<[^`>]*>`"), r"\1"),  # :ref:`text <target>`
    (re.compile(r":[\w:+.-]+:`~?([^`]*)`"), r"\1"),  # :c:func:`name`
    (re.compile(r"`([^`<]*?)\s*<[^`>]*>`__?"), r"\1"),  # `text <url>`_
    (re.compile(r"``([^`]*)``"), r"\1"),
    (re.compile(r"`([^`]*)`_{0,2}"), r"\1"),
    (re.compile(r"\*\*([^*]+)\*\*"), r"\1"),
    (re.compile(r"(?<![\w*])\*([^*\s][^*]*)\*(?![\w*])"), r"\1"),
    (re.compile(r"\|([\w\s-]+)\|"), r"\1"),
    (re.compile(r"\[(#\w*|\d+|\*)\]_"), ""),  # footnote references
    (re.compile(r"\b(\w+)_(?=[\s.,;:)]|$)"), r"\1"),  # reference_ → reference
    (re.compile(r"\s+"), " "),
]


def inline_text(text: str) -> str:
    for pattern, replacement in _INLINE:
        text = pattern.sub(replacement, text)
    return text.strip()


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" \t").expandtabs(8)) if line.strip() else 1 << 30


def _prose(paragraph: str) -> bool:
    letters = sum(c.isalpha() or c.isspace() for c in paragraph)
    return len(paragraph) >= 12 and letters >= 0.8 * len(paragraph) and " " in paragraph


def rst_paragraphs(source: str) -> list[str]:
    """The prose paragraphs of an RST document, inline markup removed, in reading order."""
    lines = source.expandtabs(8).splitlines()
    paragraphs: list[str] = []
    current: list[str] = []
    skip_deeper_than: int | None = None  # inside a dropped block: skip lines indented more than this
    literal_next = False  # the previous paragraph ended with "::": its indented block is code
    in_table = False

    def flush() -> None:
        nonlocal literal_next
        if not current:
            return
        text = " ".join(current)
        literal_next = text.rstrip().endswith("::")
        if literal_next:
            text = text.rstrip()[:-2].rstrip()
            text = text + ":" if text and text[-1].isalnum() else text
        text = inline_text(text)
        if _prose(text):
            paragraphs.append(text)
        current.clear()

    i = 0
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        indent = _indent(line)
        if skip_deeper_than is not None:
            if not stripped or indent > skip_deeper_than:
                i += 1
                continue
            skip_deeper_than = None
        if in_table:
            if not stripped and (i + 1 >= len(lines) or not lines[i + 1].strip()
                                 or not _TABLE_BORDER.match(lines[i + 1]) and not lines[i + 1].startswith((" ", "|", "+"))):
                in_table = False
            i += 1
            continue
        if not stripped:
            flush()
            i += 1
            continue
        if literal_next and not current:
            # the indented block after "::" (or a blank-separated one) is a literal block: drop it
            skip_deeper_than = _indent(lines[i - 1]) if i and lines[i - 1].strip() else 0
            literal_next = False
            if indent > skip_deeper_than:
                continue
            skip_deeper_than = None
        if _TABLE_BORDER.match(line) or stripped.startswith("|") and stripped.endswith("|"):
            flush()
            in_table = True
            i += 1
            continue
        directive = _DIRECTIVE.match(line)
        if directive:
            flush()
            name = (directive.group(3) or "").lower()
            if name in ADMONITIONS:
                rest = line[directive.end():].strip()
                if rest and name != "admonition":
                    current.append(rest)
                i += 1
                continue  # the body is indented prose: read it as paragraphs
            skip_deeper_than = indent
            i += 1
            continue
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        if _RULE.match(stripped) and (not current or len(stripped) >= len(" ".join(current))):
            current.clear()  # an over/underline: what is buffered is a title
            i += 1
            continue
        if _RULE.match(nxt.strip()) and len(nxt.strip()) >= len(stripped) and not current:
            i += 2  # title with underline
            continue
        bullet = _BULLET.match(line)
        if bullet:
            flush()
            line = line[bullet.end():]
        else:
            field = _FIELD.match(stripped)
            if field and not current:
                line = stripped[field.end():]
        current.append(line.strip())
        i += 1
    flush()
    return paragraphs
