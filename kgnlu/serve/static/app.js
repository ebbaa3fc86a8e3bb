// The page of `kgnlu serve`: link text, ask questions, browse entities. Plain ES module, no
// dependencies, so the page works offline from the server's own /static/.
//
// Routes (location.hash): "#/" the two forms; "#/entity/<id>" one entity (id URI-encoded).
// Every API error ({"error": {"code", "message"}}) is shown in the #error alert, never swallowed.

import { evidenceGraph, renderEvidenceSvg } from "./evidence_graph.js";
import { sourceSlug, sourceStyle } from "./sources.js";

const TOKEN_KEY = "kgnlu-token";
const $ = (id) => document.getElementById(id);

// ------------------------------------------------------------------ small DOM helper
function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat()) {
    if (c !== null && c !== undefined && c !== false) node.append(c instanceof Node ? c : String(c));
  }
  return node;
}

export function entityHref(id) {
  return "#/entity/" + encodeURIComponent(id);
}

const fmt = (x) => (typeof x === "number" ? x.toFixed(3) : "–");

// "http://example.org/inventors#Person" → "Person"; CURIEs ("wordnet:noun.artifact") stay whole.
export function shortName(id) {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(id) ? id.replace(/^.*[#/](?=[^#/]+$)/, "") : id;
}

// ------------------------------------------------------------------ token and fetch
function token() {
  return sessionStorage.getItem(TOKEN_KEY) || "";
}

function showTokenState() {
  $("token-state").textContent = token() ? "A token is set for this tab." : "No token set.";
}

export class ApiError extends Error {
  constructor(code, message, status) {
    super(message);
    this.code = code;
    this.status = status;
  }
}

async function api(path, { method = "GET", body = undefined } = {}) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (token()) headers.Authorization = "Bearer " + token();
  let response;
  try {
    response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (err) {
    throw new ApiError("network", `The server could not be reached (${err.message}). Is \`kgnlu serve\` running?`, 0);
  }
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  if (!response.ok) {
    const e = data && data.error;
    if (response.status === 401) $("token-box").open = true;
    const fallback = `HTTP ${response.status} ${response.statusText}`;
    if (e && typeof e === "object") throw new ApiError(e.code || `HTTP ${response.status}`, e.message || fallback, response.status);
    const detail = data && data.detail ? (typeof data.detail === "string" ? data.detail : JSON.stringify(data.detail)) : fallback;
    throw new ApiError(`HTTP ${response.status}`, detail, response.status);
  }
  if (data === null) throw new ApiError("bad-response", `${path} did not answer JSON`, response.status);
  return data;
}

function showError(err) {
  const box = $("error");
  $("error-code").textContent = err.code ? `${err.code}:` : "Error:";
  $("error-message").textContent = err.message || String(err);
  box.hidden = false;
}

function clearError() {
  $("error").hidden = true;
}

// Runs a request for a form: disables its submit button while it runs, shows its error.
async function guarded(button, work) {
  clearError();
  button.disabled = true;
  button.setAttribute("aria-busy", "true");
  try {
    await work();
  } catch (err) {
    showError(err);
  } finally {
    button.disabled = false;
    button.removeAttribute("aria-busy");
  }
}

// ------------------------------------------------------------------ popovers
// A mention's popover is shown on hover or focus and hidden on leave, blur or Escape. It is always
// in the DOM (hidden attribute toggled) and referenced by the mention's aria-describedby, so screen
// readers announce the candidates whether or not it is visible.
let openPopover = null;

function showPopover(pop) {
  if (openPopover && openPopover !== pop) openPopover.hidden = true;
  pop.hidden = false;
  openPopover = pop;
}

function hidePopover(pop) {
  pop.hidden = true;
  if (openPopover === pop) openPopover = null;
}

document.addEventListener("keydown", (ev) => {
  if (ev.key === "Escape" && openPopover) {
    hidePopover(openPopover);
    ev.preventDefault();
  }
});

// ------------------------------------------------------------------ linking
function candidateList(link) {
  const cands = link.candidates && link.candidates.length ? link.candidates
    : [{ entity: link.entity, score: link.score }];
  return h("ol", { class: "candidates" }, cands.slice(0, 8).map((c) =>
    h("li", { class: c.entity === link.entity ? "chosen" : null },
      h("span", { class: "cand-label" }, c.label ? `${c.label} ` : ""),
      h("code", {}, c.entity), " ", h("span", { class: "score" }, fmt(c.score)))));
}

export function renderLinked(text, links, out) {
  out.replaceChildren();
  const sorted = [...links].sort((a, b) => a.start - b.start || b.end - a.end);
  const para = h("p", { class: "linked-text" });
  const sources = new Map();
  let at = 0, n = 0;
  for (const link of sorted) {
    if (link.start < at) continue;  // overlapping spans: keep the first, as the linker does
    para.append(text.slice(at, link.start));
    const { source, style } = sourceStyle(link.entity);
    sources.set(source, style);
    const tipId = `mention-tip-${n++}`;
    const pop = h("span", { class: "popover", role: "tooltip", id: tipId, hidden: true },
      h("span", { class: "pop-title" }, link.label || link.entity),
      h("code", { class: "pop-id" }, link.entity),
      h("span", { class: "pop-meta" }, `score ${fmt(link.score)} · ${source}`,
        link.kind ? ` · ${shortName(link.kind)}` : ""),
      h("span", { class: "pop-sub" }, "Candidates:"),
      candidateList(link));
    const anchor = h("a", {
      class: `mention src-${sourceSlug(source)}`, style, href: entityHref(link.entity), tabindex: 0,
      "aria-describedby": tipId, "data-entity": link.entity, "data-source": source, "data-kind": link.kind,
      "data-start": link.start, "data-end": link.end,
    }, text.slice(link.start, link.end));
    const wrap = h("span", { class: "mention-wrap" }, anchor, pop);
    wrap.addEventListener("mouseenter", () => showPopover(pop));
    wrap.addEventListener("mouseleave", () => { if (document.activeElement !== anchor) hidePopover(pop); });
    anchor.addEventListener("focus", () => showPopover(pop));
    anchor.addEventListener("blur", () => hidePopover(pop));
    para.append(wrap);
    at = link.end;
  }
  para.append(text.slice(at));
  out.append(para);
  if (!sorted.length) {
    out.append(h("p", { class: "hint empty" }, "No mention of the text was linked to the graph."));
    return;
  }
  out.append(h("ul", { class: "legend", "aria-label": "Sources" },
    [...sources].map(([source, style]) => h("li", {}, h("span", { class: "swatch", style }), source))));
}

async function submitLink(ev) {
  ev.preventDefault();
  const text = $("link-text").value;
  const mode = $("link-mode").value;
  await guarded($("link-submit"), async () => {
    const data = await api("/link", { method: "POST", body: { text, mode: mode || "fast" } });
    renderLinked(text, data.links || [], $("link-out"));
  });
}

// ------------------------------------------------------------------ questions
function entityLink(id, label) {
  const { source, style } = sourceStyle(id);
  return h("a", { class: `entity src-${sourceSlug(source)}`, style, href: entityHref(id), "data-entity": id },
    label || id);
}

function pathItem(path) {
  const steps = (path.triples || []).map((t) => {
    const [from, fromLabel, to, toLabel] = t.forward === false
      ? [t.tail, t.tail_label, t.head, t.head_label] : [t.head, t.head_label, t.tail, t.tail_label];
    const arrow = t.forward === false ? ` ←${t.relation_label || t.relation}— ` : ` —${t.relation_label || t.relation}→ `;
    return h("span", { class: "step" }, entityLink(from, fromLabel), arrow, entityLink(to, toLabel));
  });
  return h("li", { class: "path" }, h("span", { class: "score" }, fmt(path.score)), " ",
    steps.flatMap((s, i) => (i ? ["; ", s] : [s])));
}

export function renderAnswers(data, out) {
  out.replaceChildren();
  const answers = data.answers || [];
  if (!answers.length) {
    out.append(h("p", { class: "hint empty" }, `No answer: ${data.reason || "nothing found"}.`));
    return;
  }
  if (data.topic && data.topic.entity) {
    out.append(h("p", { class: "topic" }, "Topic entity: ", entityLink(data.topic.entity, data.topic.label),
      data.topic.mention ? ` (from “${data.topic.mention}”)` : ""));
  }
  out.append(h("ol", { class: "answers" }, answers.map((a, i) => h("li", { class: i === 0 ? "answer top" : "answer" },
    h("div", { class: "answer-head" }, entityLink(a.entity, a.label), " ",
      h("span", { class: "score", title: "score" }, fmt(a.score)),
      a.kind ? h("span", { class: "kind", title: a.kind }, shortName(a.kind)) : null),
    (a.evidence || []).length
      ? h("ul", { class: "paths", "aria-label": `Evidence for ${a.label || a.entity}` }, a.evidence.map(pathItem))
      : null))));
  const graph = evidenceGraph(data);
  if (graph.edges.length) {
    const caption = `Evidence subgraph: ${graph.nodes.size} entities, ${graph.edges.length} triples; `
      + `the top answer's path (${answers[0].label || answers[0].entity}) is highlighted.`;
    out.append(h("figure", { class: "graph" }, renderEvidenceSvg(graph, caption), h("figcaption", {}, caption)));
  }
}

async function submitQuestion(ev) {
  ev.preventDefault();
  const question = $("qa-question").value;
  const k = parseInt($("qa-k").value, 10);
  await guarded($("qa-submit"), async () => {
    const data = await api("/qa", { method: "POST", body: Number.isFinite(k) ? { question, k } : { question } });
    renderAnswers(data, $("qa-out"));
  });
}

// ------------------------------------------------------------------ entity view
// Neighbour groups of GET /entities/{id}: one per relation and direction that has entities,
// [{relation, label, direction: "out" | "in", entities: [{entity, label}], total}].
function neighbourGroups(data) {
  const groups = [];
  for (const r of data.relations || []) {
    for (const direction of ["out", "in"]) {
      const entities = r[direction] || [];
      if (entities.length) {
        groups.push({ relation: r.relation, label: r.label || r.relation, direction, entities,
                      total: r[`${direction}_total`] });
      }
    }
  }
  return groups;
}

export function renderEntity(data, out) {
  out.replaceChildren();
  const id = data.entity || data.id;
  const { source, style } = sourceStyle(id);
  out.append(h("h2", { id: "entity-title" }, data.label || id));
  out.append(h("dl", { class: "facts" },
    h("dt", {}, "Id"), h("dd", {}, h("code", { class: "entity-id" }, id)),
    h("dt", {}, "Kind"), h("dd", { class: "entity-kind", title: data.kind || null }, data.kind ? shortName(data.kind) : "–"),
    h("dt", {}, "Source"), h("dd", {}, h("span", { class: "swatch", style }), source)));
  if (data.text) out.append(h("p", { class: "entity-text" }, data.text));
  const groups = neighbourGroups(data);
  if (!groups.length) {
    out.append(h("p", { class: "hint empty" }, "No neighbours in the graph."));
    return;
  }
  out.append(h("h3", {}, "Neighbours"));
  for (const g of groups) {
    const title = g.direction === "in" ? `${g.label} (incoming)` : g.label;
    const extra = typeof g.total === "number" && g.total > g.entities.length ? ` — ${g.entities.length} of ${g.total}` : "";
    out.append(h("section", { class: "relation", "data-relation": g.relation, "data-direction": g.direction },
      h("h4", {}, title, extra),
      h("ul", { class: "neighbours" }, g.entities.map((e) => h("li", {}, entityLink(e.entity, e.label))))));
  }
}

async function showEntity(id) {
  $("home-view").hidden = true;
  $("entity-view").hidden = false;
  const out = $("entity-out");
  out.replaceChildren(h("p", { class: "hint" }, `Loading ${id} …`));
  clearError();
  try {
    renderEntity(await api("/entities/" + encodeURIComponent(id)), out);
    document.title = `${$("entity-title").textContent} — kgnlu`;
    $("entity-title").setAttribute("tabindex", "-1");
    $("entity-title").focus();
  } catch (err) {
    out.replaceChildren(h("h2", { id: "entity-title" }, id));
    showError(err);
  }
}

// ------------------------------------------------------------------ routing and start-up
function route() {
  if (openPopover) hidePopover(openPopover);
  const m = /^#\/entity\/(.+)$/.exec(location.hash);
  if (m) {
    showEntity(decodeURIComponent(m[1]));
    return;
  }
  $("entity-view").hidden = true;
  $("home-view").hidden = false;
  document.title = "kgnlu";
}

// The header and footer say which graph and model this server holds (GET /version).
async function describeServer() {
  try {
    const v = await api("/version");
    const g = v.graph || {};
    const m = v.model || {};
    $("graph-name").textContent = g.name ? `Graph: ${g.name} (${(g.entities || 0).toLocaleString("en")} entities)` : "";
    $("version").textContent = `kgnlu ${v.kgnlu || "?"}` + (m.kind ? ` · QA model: ${m.kind}` : "");
  } catch (err) {
    // the header is decoration, but a server that wants a token should say so at once
    if (err.status === 401) $("token-state").textContent = "This server needs a token: paste it here.";
  }
}

function start() {
  $("link-form").addEventListener("submit", submitLink);
  $("qa-form").addEventListener("submit", submitQuestion);
  $("link-text").addEventListener("keydown", (ev) => {
    if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) {
      ev.preventDefault();
      $("link-form").requestSubmit();
    }
  });
  $("error-close").addEventListener("click", clearError);
  $("token-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const value = $("token-input").value.trim();
    if (value) sessionStorage.setItem(TOKEN_KEY, value);
    $("token-input").value = "";
    showTokenState();
    clearError();
    describeServer();
  });
  $("token-clear").addEventListener("click", () => {
    sessionStorage.removeItem(TOKEN_KEY);
    showTokenState();
  });
  showTokenState();
  window.addEventListener("hashchange", route);
  route();
  describeServer();
  document.documentElement.dataset.ready = "true";  // the browser tests wait for this
}

start();
