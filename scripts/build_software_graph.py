"""Write a software-dependency knowledge graph (Turtle) from the packages installed on this machine.

    python scripts/build_software_graph.py                       # → kgnlu/eval/natural/graphs/software.ttl
    python scripts/build_software_graph.py --out /tmp/software.ttl --status /var/lib/dpkg/status \
        --site-packages .venv/lib/python3.11/site-packages

Stdlib only. Reads two real sources:

* the dpkg status database (every package in state ``install ok installed``): Depends,
  Pre-Depends, Recommends, Suggests, Conflicts (for each ``a | b`` group the first alternative that
  is installed or provided by an installed package, else the first one; version constraints and
  ``:any`` stripped), Provides (virtual packages), Source, Section, Priority, Maintainer,
  Architecture, Version, Installed-Size, Homepage, Essential and the short description;
* the Python distributions of a site-packages folder (``importlib.metadata``): name, summary,
  version, Requires-Dist (runtime requirements only: no ``extra ==`` marker, other environment
  markers true for that environment, target installed in the same folder), licence
  (License-Expression, else a short License field, else the trove classifier) and authors.
  A Debian package is linked to the Python distribution it ships when its file list
  (``/var/lib/dpkg/info/PKG.list``) holds ``dist-packages/NAME-VER.dist-info`` or ``.egg-info``;
  such distributions get an entity even when the venv does not have them.

Maintainers and authors are people or teams, one entity per name (case-folded), their e-mail
addresses as aliases. The output is sorted and depends only on the input files.
"""

from __future__ import annotations

import argparse
import glob
import importlib.metadata
import re
import sys
import unicodedata
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "kgnlu" / "eval" / "natural" / "graphs" / "software.ttl"

BASE = "http://example.org/software"
PREFIXES = {
    "sw": f"{BASE}#",            # ontology (classes, predicates) and Debian package names
    "src": f"{BASE}/source#",    # Debian source packages
    "py": f"{BASE}/pypi#",       # Python distributions
    "who": f"{BASE}/people#",    # maintainers and authors (people and teams)
    "sec": f"{BASE}/section#",   # archive sections
    "prio": f"{BASE}/priority#",  # priorities
    "arch": f"{BASE}/architecture#",
    "lic": f"{BASE}/license#",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "owl": "http://www.w3.org/2002/07/owl#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
}

# class local name → (label, comment)
CLASSES = {
    "DebianPackage": ("debian package", "A binary package installed on the machine the graph was built on."),
    "ReferencedPackage": ("referenced package",
                          "A package name an installed package refers to (depends on, recommends, "
                          "suggests, conflicts with) that is not installed here."),
    "VirtualPackage": ("virtual package",
                       "A package name that installed packages provide but no package is called."),
    "SourcePackage": ("source package", "A Debian source package, from which binary packages are built."),
    "PythonDistribution": ("python distribution", "A Python project distribution (what pip installs)."),
    "Person": ("person", "A person who maintains Debian packages or writes Python projects."),
    "Team": ("team", "A team, group or organisation that maintains packages or writes software."),
    "Section": ("archive section", "A section of the Debian archive."),
    "Priority": ("package priority", "A Debian package priority."),
    "Architecture": ("hardware architecture", "A Debian architecture a binary package is built for."),
    "License": ("software license", "A software licence (SPDX identifier where there is one)."),
}

# predicate local name → (label, kind) ; kind "object" or "data"
PREDICATES = {
    "dependsOn": ("depends on", "object"),
    "preDependsOn": ("pre-depends on", "object"),
    "recommends": ("recommends", "object"),
    "suggests": ("suggests", "object"),
    "conflictsWith": ("conflicts with", "object"),
    "provides": ("provides", "object"),
    "builtFrom": ("built from source", "object"),
    "section": ("section", "object"),
    "priority": ("priority", "object"),
    "maintainer": ("maintainer", "object"),
    "architecture": ("architecture", "object"),
    "ships_distribution": ("ships python distribution", "object"),
    "requires_dist": ("requires", "object"),
    "license": ("license", "object"),
    "hasAuthor": ("author", "object"),
    "version": ("version", "data"),
    "installedSize": ("installed size in kilobytes", "data"),
    "homepage": ("homepage", "data"),
    "essential": ("essential", "data"),
}

RELATION_FIELDS = [("Pre-Depends", "preDependsOn"), ("Depends", "dependsOn"), ("Recommends", "recommends"),
                   ("Suggests", "suggests"), ("Conflicts", "conflictsWith")]

TEAM_WORDS = re.compile(r"\b(team|maintainers?|group|packagers|developers|authors|force|maintenance|"
                        r"inc|research|foundation|software|project|google|explosion|drivendata|authority|"
                        r"contributors|others|tools|support)\b", re.I)

SPDX = {  # free-text licence names seen in metadata → SPDX identifiers
    "apache 2.0": "Apache-2.0", "apache 2.0 license": "Apache-2.0", "apache software license": "Apache-2.0",
    "apache license 2.0": "Apache-2.0", "mit license": "MIT", "mit": "MIT", "bsd": "BSD-3-Clause",
    "bsd license": "BSD-3-Clause", "bsd 3-clause license": "BSD-3-Clause",
    "3-clause bsd license": "BSD-3-Clause",
    "new bsd license": "BSD-3-Clause", "isc license": "ISC", "isc license (iscl)": "ISC",
    "mozilla public license 2.0 (mpl 2.0)": "MPL-2.0", "python software foundation license": "PSF-2.0",
    "gnu general public license v2 or later (gplv2+)": "GPL-2.0-or-later",
    "gnu lesser general public license v3 (lgplv3)": "LGPL-3.0-only",
}
LICENSE_NAMES = {  # SPDX id → a readable name (alias)
    "MIT": "MIT License", "Apache-2.0": "Apache License 2.0", "BSD-3-Clause": "BSD 3-Clause License",
    "BSD-2-Clause": "BSD 2-Clause License", "MPL-2.0": "Mozilla Public License 2.0", "ISC": "ISC License",
    "PSF-2.0": "Python Software Foundation License", "0BSD": "BSD Zero Clause License",
    "Zlib": "zlib License", "CC0-1.0": "Creative Commons Zero 1.0", "BSL-1.0": "Boost Software License 1.0",
    "CNRI-Python": "CNRI Python License", "MIT-CMU": "CMU License",
}


# -- Turtle writing -------------------------------------------------------------------------------
_LOCAL = re.compile(r"^[A-Za-z0-9_](?:[A-Za-z0-9_.\-]*[A-Za-z0-9_\-])?$")


def term(prefix: str, local: str) -> str:
    """A prefixed name where Turtle allows it, else the full IRI."""
    if _LOCAL.match(local):
        return f"{prefix}:{local}"
    return f"<{PREFIXES[prefix]}{local}>"


def literal(text: str) -> str:
    text = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "")
    return f'"{text}"'


def slug(text: str) -> str:
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "x"


def norm_dist(name: str) -> str:
    """PEP 503 normalised distribution name."""
    return re.sub(r"[-_.]+", "-", name).lower()


# -- dpkg -----------------------------------------------------------------------------------------
def read_status(path: Path) -> dict[str, dict[str, str]]:
    """Installed packages: name → fields (continuation lines joined with newlines)."""
    packages: dict[str, dict[str, str]] = {}
    for para in re.split(r"\n\s*\n", path.read_text(encoding="utf-8", errors="replace")):
        fields: dict[str, str] = {}
        key = None
        for line in para.splitlines():
            if line[:1] in (" ", "\t") and key:
                fields[key] += "\n" + line[1:]
            elif ":" in line:
                key, _, value = line.partition(":")
                fields[key] = value.strip()
        if fields.get("Status", "").split()[-1:] == ["installed"] and "Package" in fields:
            name = fields["Package"]
            arch = fields.get("Architecture", "")
            # A Multi-Arch package installed for two architectures: keep the native/all one.
            if name in packages and arch not in ("amd64", "all", "arm64"):
                continue
            packages[name] = fields
    return packages


def parse_relation(value: str) -> list[list[str]]:
    """``a (>= 1) | b:any, c`` → [["a", "b"], ["c"]] (versions, arch qualifiers and [arch] lists gone)."""
    groups = []
    for group in value.split(","):
        alts = []
        for alt in group.split("|"):
            alt = re.sub(r"\(.*?\)|\[.*?\]|<.*?>", "", alt).strip()
            name = alt.split(":")[0].strip()
            if name:
                alts.append(name)
        if alts:
            groups.append(alts)
    return groups


def split_person(value: str) -> tuple[str, str]:
    """``Name <mail>`` → (name, mail)."""
    m = re.match(r"^\s*(.*?)\s*<([^>]*)>\s*$", value)
    if m:
        return m.group(1).strip().strip('"'), m.group(2).strip()
    return value.strip().strip('"'), ""


def shipped_distributions(info_dir: Path, package: str, arch: str) -> list[str]:
    """Distribution names whose metadata folder the package installs into dist-packages."""
    out = []
    for name in (f"{package}.list", f"{package}:{arch}.list"):
        p = info_dir / name
        if p.is_file():
            for line in p.read_text(encoding="utf-8", errors="replace").splitlines():
                m = re.search(r"/dist-packages/([A-Za-z0-9_.]+?)(?:-[0-9][^/]*)?\.(?:dist|egg)-info$", line)
                if m:
                    out.append(m.group(1))
    return sorted(set(out))


# -- Python ---------------------------------------------------------------------------------------
def dist_license(meta) -> list[str]:
    expr = meta.get("License-Expression")
    text = expr
    if not text:
        lic = (meta.get("License") or "").strip()
        if lic and "\n" not in lic and len(lic) <= 60:
            text = lic
    if not text:
        for c in meta.get_all("Classifier") or []:
            if c.startswith("License :: OSI Approved :: "):
                text = c.rsplit(" :: ", 1)[1]
                break
    if not text:
        return []
    out = []
    for part in re.split(r"\s+(?:AND|OR)\s+", text.strip("() ")):
        part = re.sub(r"\s+WITH\s+.*$", "", part).strip("() ")
        part = SPDX.get(part.lower(), part)
        if part:
            out.append(part)
    return sorted(set(out))


def _names(text: str) -> list[str]:
    """People in a free-text author field: ``A, B and C`` → [A, B, C]; ``X, Inc.`` stays whole."""
    text = re.sub(r"\s*\(.*?\)|\s+et al\.?$|\s+with\s+.*$", "", text.strip().strip('"'))
    parts = [text] if re.search(r",\s*Inc\b", text) else re.split(r",\s*|\s+and\s+", text)
    return [p.strip() for p in parts
            if p.strip() and p.strip().lower() not in ("others", "contributors", "unknown") and "@" not in p]


def dist_authors(meta) -> list[tuple[str, str]]:
    """(name, mail) pairs from Author and Author-email."""
    out: list[tuple[str, str]] = []
    authors = _names(meta.get("Author") or "")
    for chunk in re.findall(r'(?:"[^"]*"|[^,])+', (meta.get("Author-email") or "").strip()):
        name, mail = split_person(chunk)
        if "<" not in chunk:  # a bare address: it belongs to the Author field's person, if one
            if len(authors) == 1 and "@" in chunk:
                out.append((authors[0], chunk.strip()))
            continue
        names = _names(name)
        out += [(n, mail if len(names) == 1 else "") for n in names]
    seen = {n for n, _ in out}
    out += [(n, "") for n in authors if n not in seen]
    return out


def read_distributions(site: Path | None):
    if site is None or not site.is_dir():
        return {}
    dists = {}
    for d in importlib.metadata.distributions(path=[str(site)]):
        name = d.metadata["Name"]
        if name and norm_dist(name) not in dists:
            dists[norm_dist(name)] = d
    return dists


_MARKER_TOKEN = re.compile(r"""\s*(\(|\)|"[^"]*"|'[^']*'|===|==|!=|<=|>=|~=|<|>|[A-Za-z_][A-Za-z0-9_.]*)""")


def _version(text: str) -> tuple | None:
    parts = text.split(".")
    return tuple(int(p) for p in parts) if all(p.isdigit() for p in parts) else None


def _compare(left: str, op: str, right: str) -> bool:
    if op in ("in", "not in"):
        return (left in right) == (op == "in")
    a, b = _version(left), _version(right)
    if a is None or b is None:
        a, b = left, right
    elif op in ("==", "!=", "==="):  # 3.11 == 3.11.0
        n = max(len(a), len(b))
        a, b = a + (0,) * (n - len(a)), b + (0,) * (n - len(b))
    if op == "~=":
        return a >= b and a[:len(b) - 1] == b[:len(b) - 1]
    return {"==": a == b, "===": a == b, "!=": a != b, "<": a < b, "<=": a <= b, ">": a > b,
            ">=": a >= b}[op]


def marker_holds(marker: str, env: dict[str, str]) -> bool:
    """PEP 508 environment marker (``python_version < "3.11" and sys_platform == "win32"``) on ``env``."""
    tokens = _MARKER_TOKEN.findall(marker)
    pos = 0

    def take() -> str:
        nonlocal pos
        pos += 1
        return tokens[pos - 1]

    def value() -> str:
        t = take()
        return t[1:-1] if t[:1] in "\"'" else env.get(t, "")

    def atom() -> bool:
        nonlocal pos
        if tokens[pos] == "(":
            take()
            out = expr()
            take()  # ")"
            return out
        left = value()
        op = take()
        if op == "not":
            op += " " + take()
        return _compare(left, op, value())

    def conj() -> bool:
        out = atom()
        while pos < len(tokens) and tokens[pos] == "and":
            take()
            out = atom() and out
        return out

    def expr() -> bool:
        out = conj()
        while pos < len(tokens) and tokens[pos] == "or":
            take()
            out = conj() or out
        return out

    return expr()


def marker_environment(site: Path) -> dict[str, str]:
    """The marker variables of the environment ``site`` belongs to (version from its pyvenv.cfg)."""
    import os
    import platform

    full = ""
    cfg = site.parents[2] / "pyvenv.cfg"  # VENV/lib/pythonX.Y/site-packages
    if cfg.is_file():
        m = re.search(r"^version(?:_info)?\s*=\s*([0-9.]+)", cfg.read_text(), re.M)
        full = m.group(1) if m else ""
    if not full:
        m = re.search(r"python(\d+\.\d+)", str(site))
        full = m.group(1) if m else platform.python_version()
    return {"python_version": ".".join(full.split(".")[:2]), "python_full_version": full,
            "sys_platform": sys.platform, "platform_system": platform.system(),
            "platform_machine": platform.machine(), "os_name": os.name,
            "implementation_name": "cpython", "platform_python_implementation": "CPython"}


def runtime_requirements(dist, env: dict[str, str]) -> list[str]:
    """Requirements that hold in ``env``: no ``extra ==`` marker, other markers true."""
    out = []
    for req in dist.requires or []:
        spec, _, marker = req.partition(";")
        if "extra" in marker or (marker.strip() and not marker_holds(marker, env)):
            continue
        m = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", spec)
        if m:
            out.append(norm_dist(m.group(1)))
    return sorted(set(out))


# -- graph ----------------------------------------------------------------------------------------
class Graph:
    def __init__(self):
        self.subjects: dict[str, list[tuple[str, str]]] = defaultdict(list)

    def add(self, s: str, p: str, o: str) -> None:
        self.subjects[s].append((p, o))

    def turtle(self) -> str:
        lines = [f"@prefix {p}: <{iri}> ." for p, iri in PREFIXES.items()]
        lines += ["", "# Generated by scripts/build_software_graph.py from this machine's dpkg database",
                  "# and Python environment; do not edit by hand.", ""]

        def order(p: str) -> tuple:
            head = ["rdf:type", "rdfs:label", "skos:altLabel", "rdfs:comment"]
            return (head.index(p) if p in head else len(head), p)

        for s in sorted(self.subjects, key=lambda s: (not s.startswith("sw:") or s[3:4].islower(), s)):
            pairs = sorted(set(self.subjects[s]), key=lambda po: (order(po[0]), po[1]))
            body = " ;\n    ".join(f"{p} {o}" for p, o in pairs)
            lines.append(f"{s}\n    {body} .\n")
        return "\n".join(lines)


def build(status: Path, site: Path | None, info_dir: Path) -> Graph:
    g = Graph()
    for cls, (label, comment) in CLASSES.items():
        g.add(f"sw:{cls}", "rdf:type", "owl:Class")
        g.add(f"sw:{cls}", "rdfs:label", literal(label))
        g.add(f"sw:{cls}", "rdfs:comment", literal(comment))
    for pred, (label, kind) in PREDICATES.items():
        g.add(f"sw:{pred}", "rdf:type", "owl:ObjectProperty" if kind == "object" else "owl:DatatypeProperty")
        g.add(f"sw:{pred}", "rdfs:label", literal(label))
    g.add("rdf:type", "rdf:type", "rdf:Property")
    g.add("rdf:type", "rdfs:label", literal("type"))
    g.add("owl:Class", "rdf:type", "rdfs:Class")
    g.add("owl:Class", "rdfs:label", literal("class"))
    g.add("owl:ObjectProperty", "rdf:type", "rdfs:Class")
    g.add("owl:ObjectProperty", "rdfs:label", literal("object property"))
    g.add("owl:DatatypeProperty", "rdf:type", "rdfs:Class")
    g.add("owl:DatatypeProperty", "rdfs:label", literal("datatype property"))
    g.add("rdf:Property", "rdf:type", "rdfs:Class")
    g.add("rdf:Property", "rdfs:label", literal("property"))
    g.add("rdfs:Class", "rdf:type", "rdfs:Class")
    g.add("rdfs:Class", "rdfs:label", literal("class of classes"))

    packages = read_status(status)
    provided: dict[str, set[str]] = defaultdict(set)
    for name, f in packages.items():
        for group in parse_relation(f.get("Provides", "")):
            provided[group[0]].add(name)

    def pkg(name: str) -> str:
        return term("sw", name)

    referenced: set[str] = set()
    people: dict[str, tuple[str, set[str]]] = {}  # casefolded name → (label, mails)
    person_names: Counter = Counter()

    def person(name: str, mail: str) -> str:
        key = name.casefold()
        person_names[name] += 1
        if key not in people:
            people[key] = (name, set())
        if mail and "@" in mail:
            people[key][1].add(mail)
        return key

    maintained: list[tuple[str, str]] = []
    sections, priorities, archs, sources = set(), set(), set(), set()
    for name in sorted(packages):
        f = packages[name]
        s = pkg(name)
        g.add(s, "rdf:type", "sw:DebianPackage")
        g.add(s, "rdfs:label", literal(name))
        desc = f.get("Description", "").split("\n")[0].strip()
        if desc:
            g.add(s, "rdfs:comment", literal(desc))
        if f.get("Version"):
            g.add(s, "sw:version", literal(f["Version"]))
        if f.get("Installed-Size", "").isdigit():
            g.add(s, "sw:installedSize", f'"{int(f["Installed-Size"])}"^^xsd:integer')
        if f.get("Homepage"):
            g.add(s, "sw:homepage", literal(f["Homepage"]) + "^^xsd:anyURI")
        if f.get("Essential") == "yes":
            g.add(s, "sw:essential", '"true"^^xsd:boolean')
        for field, pred in RELATION_FIELDS:
            for alts in parse_relation(f.get(field, "")):
                chosen = next((a for a in alts if a in packages or a in provided), alts[0])
                if chosen == name:
                    continue
                g.add(s, f"sw:{pred}", pkg(chosen))
                referenced.add(chosen)
        for alts in parse_relation(f.get("Provides", "")):
            if alts[0] != name:
                g.add(s, "sw:provides", pkg(alts[0]))
        source = f.get("Source", name).split()[0] if f.get("Source") else name
        sources.add(source)
        g.add(s, "sw:builtFrom", term("src", source))
        if f.get("Section"):
            sec = f["Section"].split("/")[-1]
            sections.add(sec)
            g.add(s, "sw:section", term("sec", sec))
        if f.get("Priority"):
            priorities.add(f["Priority"])
            g.add(s, "sw:priority", term("prio", f["Priority"]))
        if f.get("Architecture"):
            archs.add(f["Architecture"])
            g.add(s, "sw:architecture", term("arch", f["Architecture"]))
        if f.get("Maintainer"):
            maintained.append((s, person(*split_person(f["Maintainer"]))))
        for dist in shipped_distributions(info_dir, name, f.get("Architecture", "")):
            g.add(s, "sw:ships_distribution", term("py", norm_dist(dist)))
    for name in sorted((referenced | set(provided)) - set(packages)):
        s = pkg(name)
        if name in provided:
            g.add(s, "rdf:type", "sw:VirtualPackage")
        else:
            g.add(s, "rdf:type", "sw:ReferencedPackage")
        g.add(s, "rdfs:label", literal(name))
    package_labels = set(packages) | referenced | set(provided)
    for source in sorted(sources):
        s = term("src", source)
        g.add(s, "rdf:type", "sw:SourcePackage")
        g.add(s, "rdfs:label", literal(f"src:{source}"))
        g.add(s, "skos:altLabel", literal(f"{source} source package"))
    for sec in sorted(sections):
        s = term("sec", sec)
        g.add(s, "rdf:type", "sw:Section")
        g.add(s, "rdfs:label", literal(f"{sec} section"))
        if sec not in package_labels:
            g.add(s, "skos:altLabel", literal(sec))
    for prio in sorted(priorities):
        s = term("prio", prio)
        g.add(s, "rdf:type", "sw:Priority")
        g.add(s, "rdfs:label", literal(prio))
        g.add(s, "skos:altLabel", literal(f"priority {prio}"))
    for arch in sorted(archs):
        s = term("arch", arch)
        g.add(s, "rdf:type", "sw:Architecture")
        g.add(s, "rdfs:label", literal(arch))
        if arch == "all":
            g.add(s, "skos:altLabel", literal("architecture-independent"))
            g.add(s, "rdfs:comment",
                  literal("Packages that run on every architecture (scripts, data, docs)."))

    # Python distributions: the venv's, plus any a Debian package ships.
    dists = read_distributions(site)
    env = marker_environment(site) if site is not None else {}
    shipped = {o[3:] if o.startswith("py:") else o.rsplit("#", 1)[1][:-1]
               for ss in list(g.subjects.values()) for p, o in ss if p == "sw:ships_distribution"}
    licenses: set[str] = set()
    authored: list[tuple[str, str]] = []
    for key in sorted(set(dists) | shipped):
        s = term("py", key)
        g.add(s, "rdf:type", "sw:PythonDistribution")
        d = dists.get(key)
        if d is None:
            g.add(s, "rdfs:label", literal(key))
            g.add(s, "rdfs:comment", literal("Python distribution shipped by a Debian package "
                                             "(not installed in the virtual environment)."))
            continue
        meta = d.metadata
        g.add(s, "rdfs:label", literal(meta["Name"]))
        if meta["Name"] != key:
            g.add(s, "skos:altLabel", literal(key))
        if meta.get("Summary"):
            g.add(s, "rdfs:comment", literal(meta["Summary"].strip()))
        g.add(s, "sw:version", literal(d.version))
        for req in runtime_requirements(d, env):
            if req in dists and req != key:
                g.add(s, "sw:requires_dist", term("py", req))
        for lic in dist_license(meta):
            licenses.add(lic)
            g.add(s, "sw:license", term("lic", lic))
        for name, mail in dist_authors(meta):
            authored.append((s, person(name, mail)))
    for lic in sorted(licenses):
        s = term("lic", lic)
        g.add(s, "rdf:type", "sw:License")
        g.add(s, "rdfs:label", literal(lic))
        if lic in LICENSE_NAMES:
            g.add(s, "skos:altLabel", literal(LICENSE_NAMES[lic]))

    # People and teams: one entity per case-folded name, the most frequent spelling as label.
    local_of: dict[str, str] = {}
    used: set[str] = set()
    for key in sorted(people):
        label = max((n for n in person_names if n.casefold() == key), key=lambda n: (person_names[n], n))
        local = slug(label)
        while local in used:
            local += "-2"
        used.add(local)
        local_of[key] = local
        s = term("who", local)
        g.add(s, "rdf:type", "sw:Team" if TEAM_WORDS.search(label) else "sw:Person")
        g.add(s, "rdfs:label", literal(label))
        for mail in sorted(people[key][1]):
            g.add(s, "skos:altLabel", literal(mail))
    for s, key in maintained:
        g.add(s, "sw:maintainer", term("who", local_of[key]))
    for s, key in authored:
        g.add(s, "sw:hasAuthor", term("who", local_of[key]))
    return g


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--status", type=Path, default=Path("/var/lib/dpkg/status"))
    ap.add_argument("--info-dir", type=Path, default=Path("/var/lib/dpkg/info"))
    venv_sites = sorted(glob.glob(str(ROOT / ".venv" / "lib" / "python3*" / "site-packages")))
    ap.add_argument("--site-packages", default=venv_sites[-1] if venv_sites else "",
                    help="Python environment to read (default: the repository's .venv); '' to skip.")
    args = ap.parse_args(argv)
    site = Path(args.site_packages) if args.site_packages else None
    g = build(args.status, site, args.info_dir)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_suffix(".tmp")
    tmp.write_text(g.turtle(), encoding="utf-8")
    tmp.replace(args.out)
    n = sum(len(set(v)) for v in g.subjects.values())
    print(f"{args.out}: {len(g.subjects)} subjects, {n} statements, {args.out.stat().st_size:,} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
