// embedrec explorer: plain JavaScript over the service's JSON API on the same origin.
// Neighbours (/v1/neighbors), a 2-D PCA map of them (/v1/map, drawn on a <canvas>) and
// analogies (/v1/analogy). What is shown lives in the URL's query (?word=shark&k=10,
// ?a=italy&b=rome&c=germany, &index=NAME): a link opens with that search done, each new
// search is a history entry (pushState), and Back/Forward restore it (popstate).
"use strict";

const $ = (id) => document.getElementById(id);
const STATE_KEYS = ["word", "k", "a", "b", "c", "method", "index"];
let chosenIndex = null; // the index= of every query; null: the service's default

async function getJson(path, params) {
  const query = Object.assign({}, params);
  if (chosenIndex) query.index = chosenIndex;
  const url = path + "?" + new URLSearchParams(query).toString();
  const response = await fetch(url, { headers: { Accept: "application/json" } });
  let body = null;
  try {
    body = await response.json();
  } catch (err) {
    body = { error: "bad_answer", detail: "HTTP " + response.status + " without a JSON body" };
  }
  if (!response.ok) {
    const error = new Error(body.detail || "HTTP " + response.status);
    error.body = body;
    throw error;
  }
  return body;
}

function showError(element, error, retry) {
  element.textContent = error.message;
  const suggestion = error.body && error.body.suggestion;
  if (suggestion && retry) {
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = "search " + suggestion;
    button.addEventListener("click", () => retry(suggestion));
    element.appendChild(button);
  }
  element.hidden = false;
}

function wordLink(token, onClick) {
  const link = document.createElement("a");
  link.textContent = token;
  link.title = "neighbours of " + token;
  link.addEventListener("click", () => onClick(token));
  return link;
}

// The header names the index (never the server's path: /v1/indexes gives paths only to
// requests carrying the token, and the page does not show them even then).
let servedIndexes = [];

async function loadIndexes() {
  try {
    const answer = await getJson("v1/indexes", {});
    servedIndexes = answer.indexes;
    const select = $("index");
    select.replaceChildren();
    for (const item of answer.indexes) {
      const option = document.createElement("option");
      option.value = item.name;
      option.textContent = item.name + (item.default ? " (default)" : "");
      select.appendChild(option);
    }
    $("index-choice").hidden = answer.indexes.length < 2;
    select.value = chosenIndex || answer.default;
    describeIndex();
  } catch (error) {
    $("index-info").textContent = "cannot describe the index: " + error.message;
  }
}

function describeIndex() {
  const name = chosenIndex || $("index").value;
  const index = servedIndexes.find((i) => i.name === name) || servedIndexes[0];
  if (!index) return;
  const recall = index.exact ? "exact" : "recall@10 " + Number(index.recall_at_10).toFixed(3);
  const shards = index.shards > 1 ? " · " + index.shards + " shards" : "";
  $("index-info").textContent =
    index.name + " · " + index.vectors.toLocaleString("en") + " words × " + index.dim + " · " +
    index.factory + " (" + index.kind + ", " + recall + ") · " + index.metric + shards;
  $("score-label").textContent = index.metric === "l2" ? "distance" : "score";
}

// The page's state <-> the URL's query string.
function currentState() {
  const state = {};
  const params = new URLSearchParams(location.search);
  // Links of earlier versions put the word in the fragment (#word=...).
  const legacy = new URLSearchParams(location.hash.slice(1));
  for (const key of STATE_KEYS) {
    const value = params.get(key) || legacy.get(key);
    if (value) state[key] = value;
  }
  return state;
}

function remember(state) {
  if (chosenIndex) state.index = chosenIndex;
  const query = "?" + new URLSearchParams(state).toString();
  if (query !== location.search || location.hash) {
    history.pushState(state, "", query);
  }
}

async function restore(state) {
  chosenIndex = state.index || null;
  if (servedIndexes.length) {
    $("index").value = chosenIndex || $("index").value;
    describeIndex();
  }
  if (state.k) $("k").value = state.k;
  if (state.a && state.b && state.c) {
    $("analogy-a").value = state.a;
    $("analogy-b").value = state.b;
    $("analogy-c").value = state.c;
    if (state.method) $("analogy-method").value = state.method;
    await solveAnalogy(null, { remember: false });
  }
  if (state.word) await search(state.word, { remember: false });
}

async function search(word, options) {
  word = word.trim();
  if (!word) return;
  $("word").value = word;
  const k = Math.max(1, Math.min(200, parseInt($("k").value, 10) || 10));
  if (!options || options.remember !== false) remember({ word: word, k: String(k) });
  const errorBox = $("search-error");
  errorBox.hidden = true;
  errorBox.textContent = "";
  const table = $("neighbors");
  const body = table.querySelector("tbody");
  try {
    const answer = await getJson("v1/neighbors", { word: word, k: k });
    body.replaceChildren();
    answer.neighbors.forEach((item, i) => {
      const row = document.createElement("tr");
      const rank = document.createElement("td");
      rank.textContent = String(i + 1);
      const token = document.createElement("td");
      token.appendChild(wordLink(item.token, search));
      const score = document.createElement("td");
      score.className = "score";
      score.textContent = item.score.toFixed(4);
      row.append(rank, token, score);
      body.appendChild(row);
    });
    table.hidden = false;
    table.dataset.word = answer.word;
  } catch (error) {
    table.hidden = true;
    showError(errorBox, error, search);
    return;
  }
  try {
    drawMap(await getJson("v1/map", { word: word, k: Math.min(k, 50) }));
  } catch (error) {
    $("map-caption").textContent = "no map: " + error.message;
  }
}

function drawMap(answer) {
  const canvas = $("map");
  const ratio = window.devicePixelRatio || 1;
  const width = canvas.clientWidth || 640;
  const height = Math.round(width * 0.6875);
  canvas.width = Math.round(width * ratio);
  canvas.height = Math.round(height * ratio);
  const ctx = canvas.getContext("2d");
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  ctx.fillStyle = "#ffffff";
  ctx.fillRect(0, 0, width, height);

  const xs = answer.points.map((p) => p.x);
  const ys = answer.points.map((p) => p.y);
  const pad = 48;
  const spanX = Math.max(...xs) - Math.min(...xs) || 1;
  const spanY = Math.max(...ys) - Math.min(...ys) || 1;
  const scale = Math.min((width - 2 * pad) / spanX, (height - 2 * pad) / spanY);
  const cx = (Math.max(...xs) + Math.min(...xs)) / 2;
  const cy = (Math.max(...ys) + Math.min(...ys)) / 2;
  const at = (p) => [width / 2 + (p.x - cx) * scale, height / 2 - (p.y - cy) * scale];

  // Axes through the mean of the points (PCA's origin), where it falls inside the frame.
  const [ox, oy] = at({ x: 0, y: 0 });
  ctx.strokeStyle = "#e5e9ee";
  ctx.lineWidth = 1;
  ctx.beginPath();
  if (oy > pad / 2 && oy < height - pad / 2) {
    ctx.moveTo(pad / 2, oy);
    ctx.lineTo(width - pad / 2, oy);
  }
  if (ox > pad / 2 && ox < width - pad / 2) {
    ctx.moveTo(ox, pad / 2);
    ctx.lineTo(ox, height - pad / 2);
  }
  ctx.stroke();

  const query = answer.points.find((p) => p.role === "query");
  const [qx, qy] = at(query);
  ctx.strokeStyle = "rgba(31, 111, 235, 0.25)";
  for (const p of answer.points) {
    if (p.role === "query") continue;
    const [x, y] = at(p);
    ctx.beginPath();
    ctx.moveTo(qx, qy);
    ctx.lineTo(x, y);
    ctx.stroke();
  }
  ctx.font = "13px system-ui, sans-serif";
  ctx.textBaseline = "middle";
  const dots = answer.points.map((p) => {
    const [x, y] = at(p);
    return { p: p, x: x, y: y, r: p.role === "query" ? 7 : 5 };
  });
  for (const dot of dots) {
    ctx.fillStyle = dot.p.role === "query" ? "#d1242f" : "#1f6feb";
    ctx.beginPath();
    ctx.arc(dot.x, dot.y, dot.r, 0, 2 * Math.PI);
    ctx.fill();
  }
  const labels = placeLabels(ctx, dots, width, height);
  canvas.dataset.dots = JSON.stringify(dots.map((d) => ({
    token: d.p.token, x: d.x, y: d.y, w: Math.ceil(ctx.measureText(d.p.token).width),
  })));
  for (const label of labels) {
    const isQuery = label.dot.p.role === "query";
    ctx.fillStyle = isQuery ? "#d1242f" : "#1d2330";
    if (label.leader) {
      ctx.strokeStyle = "rgba(29, 35, 48, 0.35)";
      ctx.beginPath();
      ctx.moveTo(label.dot.x, label.dot.y);
      ctx.lineTo(label.box.x + (label.box.x > label.dot.x ? 0 : label.box.w), label.box.y + label.box.h / 2);
      ctx.stroke();
    }
    ctx.fillText(label.dot.p.token, label.box.x + 1, label.box.y + label.box.h / 2);
  }
  // For the browser tests: where each label went, and which words had no room for one.
  canvas.dataset.labels = JSON.stringify(
    labels.map((l) => ({ token: l.dot.p.token, x: l.box.x, y: l.box.y, w: l.box.w, h: l.box.h }))
  );
  canvas.dataset.unlabelled = String(dots.length - labels.length);
  canvas.title = dots.length > labels.length
    ? "unlabelled (no room): " + dots.filter((d) => !labels.some((l) => l.dot === d)).map((d) => d.p.token).join(", ")
    : "";
  canvas.dataset.points = String(answer.points.length);
  const [pc1, pc2] = answer.explained_variance.map((v) => Math.round(v * 100));
  $("map-caption").textContent =
    answer.word + " and its " + (answer.points.length - 1) + " nearest words; PC1 " + pc1 +
    "% + PC2 " + pc2 + "% of their variance.";
}

// Greedy label placement: the query first, then neighbours by score; each label takes the
// first of a few spots around its dot (right, left, above, below, then further out with a
// leader line) whose box overlaps no label placed before, no other dot and stays inside
// the canvas. A label with no free spot is left out (its word is in the table and the
// canvas's tooltip) rather than printed over another.
function placeLabels(ctx, dots, width, height) {
  const order = dots.slice().sort((d, e) => {
    if (d.p.role === "query") return -1;
    if (e.p.role === "query") return 1;
    return (e.p.score || 0) - (d.p.score || 0);
  });
  const placed = [];
  const h = 15;
  const overlaps = (a, b) =>
    a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
  const hitsDot = (box, own) =>
    dots.some((d) => d !== own && d.x + d.r > box.x && d.x - d.r < box.x + box.w &&
      d.y + d.r > box.y && d.y - d.r < box.y + box.h);
  for (const dot of order) {
    const w = Math.ceil(ctx.measureText(dot.p.token).width) + 2;
    const gap = dot.r + 3;
    const spots = [
      [gap, -h / 2], [-gap - w, -h / 2], [-w / 2, -gap - h], [-w / 2, gap],
      [gap, -h - 2], [gap, 2], [-gap - w, -h - 2], [-gap - w, 2],
      [gap + 14, -h / 2 - 16], [gap + 14, -h / 2 + 16], [-gap - w - 14, -h / 2 - 16],
      [-gap - w - 14, -h / 2 + 16], [-w / 2, -gap - h - 16], [-w / 2, gap + 16],
    ];
    for (let i = 0; i < spots.length; i++) {
      const box = { x: dot.x + spots[i][0], y: dot.y + spots[i][1], w: w, h: h };
      if (box.x < 2 || box.y < 2 || box.x + w > width - 2 || box.y + h > height - 2) continue;
      if (placed.some((l) => overlaps(l.box, box)) || hitsDot(box, dot)) continue;
      placed.push({ dot: dot, box: box, leader: i >= 8 });
      break;
    }
  }
  return placed;
}

async function solveAnalogy(event, options) {
  if (event) event.preventDefault();
  const params = {
    a: $("analogy-a").value.trim(),
    b: $("analogy-b").value.trim(),
    c: $("analogy-c").value.trim(),
    method: $("analogy-method").value,
  };
  if (!options || options.remember !== false) remember(Object.assign({}, params));
  params.k = 5;
  const errorBox = $("analogy-error");
  const list = $("analogy-answers");
  errorBox.hidden = true;
  errorBox.textContent = "";
  list.replaceChildren();
  try {
    const answer = await getJson("v1/analogy", params);
    for (const item of answer.answers) {
      const entry = document.createElement("li");
      entry.appendChild(wordLink(item.token, search));
      entry.appendChild(document.createTextNode(" " + item.score.toFixed(4)));
      list.appendChild(entry);
    }
  } catch (error) {
    showError(errorBox, error, null);
  }
}

document.addEventListener("DOMContentLoaded", async () => {
  $("search-form").addEventListener("submit", (event) => {
    event.preventDefault();
    search($("word").value);
  });
  $("analogy-form").addEventListener("submit", solveAnalogy);
  $("index").addEventListener("change", () => {
    chosenIndex = $("index").value;
    describeIndex();
    if ($("word").value.trim()) search($("word").value);
  });
  window.addEventListener("popstate", () => restore(currentState()));
  const state = currentState();
  chosenIndex = state.index || null;
  await loadIndexes();
  await restore(state);
  document.body.dataset.ready = "1";
});
