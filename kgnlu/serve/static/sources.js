// Where an entity comes from, and its colour: mentions and entity links are coloured by source.
// The source of an entity is its id's namespace: the CURIE prefix ("wn", "geonames", "ex"), or an
// IRI's host (and first path segment), so WordNet, GeoNames and a user's graph read apart.
const KNOWN = { wn: 210, wordnet: 210, geonames: 130, gn: 130 };
// Other sources take one of these hues, each well away from the two above.
const PALETTE = [25, 285, 335, 50, 175, 305, 0, 255];

export function sourceOf(id) {
  const iri = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]+)(\/[^/?#]*)?/i.exec(id);
  if (iri) return iri[1] + (iri[2] && iri[2].length > 1 ? iri[2] : "");
  const curie = /^([A-Za-z_][\w.-]*):/.exec(id);
  return curie ? curie[1] : "graph";
}

export function hueOf(source) {
  if (source in KNOWN) return KNOWN[source];
  let x = 0;
  for (const ch of source) x = (x * 31 + ch.codePointAt(0)) >>> 0;
  return PALETTE[x % PALETTE.length];
}

export function sourceStyle(id) {
  const source = sourceOf(id);
  return { source, style: `--hue: ${hueOf(source)}` };
}

export function sourceSlug(source) {
  return source.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "") || "graph";
}
