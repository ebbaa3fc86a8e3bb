// The evidence subgraph of a QA answer list as inline SVG.
//
// Nodes are the entities of the evidence triples, edges the triples (arrow head → tail in the
// graph's own orientation, labelled with the relation). Layout is deterministic and needs no
// library: nodes are layered by hop distance from the topic entity (breadth-first over the
// undirected evidence edges), columns left to right, nodes in a column in first-seen order. The
// top answer's first evidence path is marked `hl` (nodes and edges) so it stands out; a node's
// border takes its source's colour (sources.js).

import { sourceStyle } from "./sources.js";

const SVG = "http://www.w3.org/2000/svg";
const COL = 270, ROW = 70, NODE_W = 150, NODE_H = 30, PAD = 24;

function el(name, attrs = {}, text = null) {
  const node = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== null) node.textContent = text;
  return node;
}

function short(text, n = 22) {
  return text.length > n ? text.slice(0, n - 1) + "…" : text;
}

// {nodes: Map id → {id, label, layer, row}, edges: [{head, tail, relation, label, hl}]}
export function evidenceGraph(result, maxAnswers = 5) {
  const nodes = new Map(), edges = new Map();
  const addNode = (id, label) => {
    if (!nodes.has(id)) nodes.set(id, { id, label: label || id, hl: false, answer: false, topic: false });
  };
  if (result.topic && result.topic.entity) {
    addNode(result.topic.entity, result.topic.label);
    nodes.get(result.topic.entity).topic = true;
  }
  const answers = (result.answers || []).slice(0, maxAnswers);
  answers.forEach((answer, rank) => {
    (answer.evidence || []).forEach((path, p) => {
      const top = rank === 0 && p === 0;
      for (const t of path.triples || []) {
        addNode(t.head, t.head_label);
        addNode(t.tail, t.tail_label);
        const key = `${t.head}\u0000${t.relation}\u0000${t.tail}`;
        if (!edges.has(key)) {
          edges.set(key, { head: t.head, tail: t.tail, relation: t.relation,
                           label: t.relation_label || t.relation, hl: false });
        }
        if (top) {
          edges.get(key).hl = true;
          nodes.get(t.head).hl = nodes.get(t.tail).hl = true;
        }
      }
    });
    if (nodes.has(answer.entity)) nodes.get(answer.entity).answer = true;
  });
  layer(nodes, [...edges.values()], result.topic && result.topic.entity);
  return { nodes, edges: [...edges.values()] };
}

function layer(nodes, edges, topic) {
  const adj = new Map([...nodes.keys()].map((id) => [id, []]));
  for (const e of edges) {
    adj.get(e.head).push(e.tail);
    adj.get(e.tail).push(e.head);
  }
  const order = [...nodes.keys()];
  const start = topic && nodes.has(topic) ? topic : order[0];
  const depth = new Map();
  // Breadth-first from the topic; pieces not connected to it start their own BFS, one column on.
  for (const seed of [start, ...order]) {
    if (seed === undefined || depth.has(seed)) continue;
    const base = depth.size ? Math.max(...depth.values()) + 1 : 0;
    depth.set(seed, base);
    const queue = [seed];
    while (queue.length) {
      const id = queue.shift();
      for (const next of adj.get(id)) {
        if (!depth.has(next)) {
          depth.set(next, depth.get(id) + 1);
          queue.push(next);
        }
      }
    }
  }
  // Within a column: the top answer's path first (a straight line along the top row), then by the
  // mean row of each node's neighbours in the column before (fewer crossings), then first seen.
  const columns = new Map();
  order.forEach((id, i) => {
    const d = depth.get(id);
    if (!columns.has(d)) columns.set(d, []);
    columns.get(d).push({ id, i });
  });
  for (const d of [...columns.keys()].sort((a, b) => a - b)) {
    const keyed = columns.get(d).map(({ id, i }) => {
      const before = adj.get(id).filter((n) => depth.get(n) === d - 1).map((n) => nodes.get(n).row);
      const centre = before.length ? before.reduce((a, b) => a + b, 0) / before.length : Infinity;
      return { id, key: [nodes.get(id).hl ? 0 : 1, centre, i] };
    });
    keyed.sort((a, b) => a.key[0] - b.key[0] || a.key[1] - b.key[1] || a.key[2] - b.key[2]);
    keyed.forEach(({ id }, row) => Object.assign(nodes.get(id), { layer: d, row }));
  }
}

export function renderEvidenceSvg(graph, caption) {
  const layers = Math.max(0, ...[...graph.nodes.values()].map((n) => n.layer)) + 1;
  const rows = Math.max(1, ...[...graph.nodes.values()].map((n) => n.row + 1));
  const width = PAD * 2 + (layers - 1) * COL + NODE_W;
  const height = PAD * 2 + (rows - 1) * ROW + NODE_H + 16;
  const svg = el("svg", { viewBox: `0 0 ${width} ${height}`, width, height, role: "img",
                          class: "evidence-graph", "aria-labelledby": "evidence-graph-title" });
  svg.append(el("title", { id: "evidence-graph-title" }, caption));
  const defs = el("defs");
  for (const [id, cls] of [["arrow", "arrow"], ["arrow-hl", "arrow hl"]]) {
    const marker = el("marker", { id, viewBox: "0 0 10 10", refX: 10, refY: 5, markerWidth: 9,
                                  markerHeight: 9, markerUnits: "userSpaceOnUse", orient: "auto-start-reverse" });
    marker.append(el("path", { d: "M0,0 L10,5 L0,10 z", class: cls }));
    defs.append(marker);
  }
  svg.append(defs);
  const pos = (n) => ({ x: PAD + n.layer * COL, y: PAD + 8 + n.row * ROW });
  const edgeLayer = el("g", { class: "edges" });
  // Highlighted edges last, so they are drawn on top.
  for (const e of [...graph.edges].sort((a, b) => a.hl - b.hl)) {
    const a = pos(graph.nodes.get(e.head)), b = pos(graph.nodes.get(e.tail));
    const ltr = a.x <= b.x;
    const x1 = a.x + (ltr ? NODE_W : 0), x2 = b.x + (ltr ? 0 : NODE_W);
    const y1 = a.y + NODE_H / 2, y2 = b.y + NODE_H / 2;
    const g = el("g", { class: e.hl ? "edge hl" : "edge", "data-relation": e.relation,
                        "data-head": e.head, "data-tail": e.tail });
    const same = a.x === b.x;  // two nodes in one column: bow the edge out to the right
    const d = same
      ? `M${a.x + NODE_W},${y1} C${a.x + NODE_W + 60},${y1} ${b.x + NODE_W + 60},${y2} ${b.x + NODE_W},${y2}`
      : `M${x1},${y1} L${x2},${y2}`;
    g.append(el("path", { d, "marker-end": e.hl ? "url(#arrow-hl)" : "url(#arrow)" }));
    const lx = same ? a.x + NODE_W + 48 : (x1 + x2) / 2, ly = (y1 + y2) / 2 - 6;
    g.append(el("text", { x: lx, y: ly, "text-anchor": "middle" }, short(e.label, 26)));
    g.append(el("title", {}, `${e.head} —${e.label}→ ${e.tail}`));
    edgeLayer.append(g);
  }
  svg.append(edgeLayer);
  const nodeLayer = el("g", { class: "nodes" });
  for (const n of graph.nodes.values()) {
    const { x, y } = pos(n);
    const cls = ["node", n.hl && "hl", n.answer && "answer", n.topic && "topic"].filter(Boolean).join(" ");
    const g = el("g", { class: cls, "data-entity": n.id, style: sourceStyle(n.id).style });
    g.append(el("rect", { x, y, width: NODE_W, height: NODE_H, rx: 6 }));
    g.append(el("text", { x: x + NODE_W / 2, y: y + NODE_H / 2 + 4, "text-anchor": "middle" }, short(n.label)));
    g.append(el("title", {}, `${n.label} (${n.id})`));
    nodeLayer.append(g);
  }
  svg.append(nodeLayer);
  return svg;
}
