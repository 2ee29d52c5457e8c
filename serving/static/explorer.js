// embedrec explorer: plain JavaScript over the service's JSON API on the same origin.
// Neighbours (/v1/neighbors), a 2-D PCA map of them (/v1/map, drawn on a <canvas>) and
// analogies (/v1/analogy). The word searched is kept in the URL (#word=...), so a view can
// be linked and reloaded.
"use strict";

const $ = (id) => document.getElementById(id);

async function getJson(path, params) {
  const url = path + "?" + new URLSearchParams(params).toString();
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

async function describeIndex() {
  try {
    const health = await getJson("healthz", {});
    const index = health.index;
    const recall = index.exact ? "exact" : "recall@10 " + Number(index.recall_at_10).toFixed(3);
    const shards = index.shards > 1 ? " · " + index.shards + " shards" : "";
    $("index-info").textContent =
      index.vectors.toLocaleString("en") + " words × " + index.dim + " · " + index.factory +
      " (" + index.kind + ", " + recall + ") · " + index.metric + shards + " · " + index.path;
    $("score-label").textContent = index.metric === "l2" ? "distance" : "score";
  } catch (error) {
    $("index-info").textContent = "cannot describe the index: " + error.message;
  }
}

async function search(word) {
  word = word.trim();
  if (!word) return;
  $("word").value = word;
  const k = Math.max(1, Math.min(200, parseInt($("k").value, 10) || 10));
  history.replaceState(null, "", "#word=" + encodeURIComponent(word));
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
  for (const p of answer.points) {
    const [x, y] = at(p);
    const isQuery = p.role === "query";
    ctx.fillStyle = isQuery ? "#d1242f" : "#1f6feb";
    ctx.beginPath();
    ctx.arc(x, y, isQuery ? 7 : 5, 0, 2 * Math.PI);
    ctx.fill();
    ctx.fillStyle = isQuery ? "#d1242f" : "#1d2330";
    ctx.fillText(p.token, x + 9, y);
  }
  canvas.dataset.points = String(answer.points.length);
  const [pc1, pc2] = answer.explained_variance.map((v) => Math.round(v * 100));
  $("map-caption").textContent =
    answer.word + " and its " + (answer.points.length - 1) + " nearest words; PC1 " + pc1 +
    "% + PC2 " + pc2 + "% of their variance.";
}

async function solveAnalogy(event) {
  if (event) event.preventDefault();
  const params = {
    a: $("analogy-a").value.trim(),
    b: $("analogy-b").value.trim(),
    c: $("analogy-c").value.trim(),
    method: $("analogy-method").value,
    k: 5,
  };
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

document.addEventListener("DOMContentLoaded", () => {
  describeIndex();
  $("search-form").addEventListener("submit", (event) => {
    event.preventDefault();
    search($("word").value);
  });
  $("analogy-form").addEventListener("submit", solveAnalogy);
  const linked = new URLSearchParams(location.hash.slice(1)).get("word");
  if (linked) search(linked);
});
