// chainkit trace viewer. Plain JavaScript, no build step.
// Every piece of trace content is inserted as text (textContent / text nodes), never as HTML.
"use strict";

const state = { traceId: null, runs: [], selectedRun: null, trace: null };
const $ = (id) => document.getElementById(id);

// ---- DOM building ------------------------------------------------------------------------
function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key === "style") Object.assign(node.style, value);
    else node.setAttribute(key, String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function clear(node) { node.replaceChildren(); return node; }

function say(text, isError) {
  const msg = $("status-msg");
  msg.textContent = text;
  msg.className = isError ? "status-error" : "";
}

async function api(path, body) {
  const opts = body === undefined ? {} : {
    method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body),
  };
  const res = await fetch(path, opts);
  const data = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(data.error || `${res.status} ${res.statusText}`);
  return data;
}

// ---- formatting -------------------------------------------------------------------------
const fmtMs = (ms) => ms === null || ms === undefined ? "–"
  : ms < 1 ? `${Math.round(ms * 1000)} µs`
  : ms < 1000 ? `${ms.toFixed(1)} ms` : `${(ms / 1000).toFixed(2)} s`;
const fmtCost = (c) => c === null || c === undefined ? "–"
  : c >= 0.0001 ? `$${c.toFixed(4)}` : `$${c.toPrecision(2)}`;
const fmtTime = (iso) => iso ? new Date(iso).toLocaleString() : "–";
function fmtTokens(r) {
  if (r.total_tokens === null && r.input_tokens === null) return "–";
  return `${r.input_tokens ?? 0} → ${r.output_tokens ?? 0} (${r.total_tokens ?? 0})`;
}
function fmtScore(fb) {
  if (!fb) return "";
  const mean = fb.mean_score === null ? "" : ` · ${fb.mean_score.toFixed(2)}`;
  return `${fb.count}${mean}`;
}

// ---- trace list -------------------------------------------------------------------------
async function loadProjects() {
  const select = $("filter-project");
  const current = select.value;
  const projects = await api("/api/projects");
  clear(select).append(el("option", { value: "" }, "All projects"));
  for (const p of projects) {
    select.append(el("option", { value: p.project }, `${p.project} (${p.traces})`));
  }
  select.value = current;
}

async function loadTraces() {
  const params = new URLSearchParams();
  for (const [key, id] of [["q", "filter-q"], ["project", "filter-project"],
                           ["name", "filter-name"], ["status", "filter-status"]]) {
    const value = $(id).value.trim();
    if (value) params.set(key, value);
  }
  const traces = await api(`/api/traces?${params}`);
  const body = clear($("trace-list").tBodies[0]);
  $("trace-empty").hidden = traces.length > 0;
  for (const t of traces) {
    const row = el("tr", {
      class: "trace-row" + (t.trace_id === state.traceId ? " selected" : ""),
      dataset: { traceId: t.trace_id }, onclick: () => openTrace(t.trace_id),
      title: t.inputs,
    },
      el("td", { class: "muted" }, fmtTime(t.start_time)),
      el("td", {}, t.name, el("div", { class: "muted" }, t.project)),
      el("td", { class: `status-${t.status}` }, t.status),
      el("td", {}, fmtMs(t.latency_ms)),
      el("td", {}, fmtTokens(t)),
      el("td", {}, fmtCost(t.cost)),
      el("td", { class: "score" }, fmtScore(t.feedback)),
    );
    body.append(row);
  }
}

// ---- one trace --------------------------------------------------------------------------
async function openTrace(traceId) {
  state.traceId = traceId;
  for (const row of document.querySelectorAll("tr.trace-row")) {
    row.classList.toggle("selected", row.dataset.traceId === traceId);
  }
  const data = await api(`/api/traces/${encodeURIComponent(traceId)}`);
  state.trace = data;
  state.runs = data.runs;
  $("detail-pane").hidden = false;
  renderSummary(data);
  renderTree(data.runs);
  selectRun(data.runs[0].id);
}

function renderSummary(data) {
  const root = data.runs[0];
  const rt = (root.extra && root.extra.runtime) || {};
  const items = [
    ["Trace", root.trace_id], ["Project", root.project], ["Started", fmtTime(root.start_time)],
    ["Latency", fmtMs(root.latency_ms)],
    ["Framework overhead", fmtMs(root.overhead_ms)],
    ["Tokens", fmtTokens(root)], ["Cost", fmtCost(data.cost)],
    ["Runtime", Object.entries(rt).map(([k, v]) => `${k} ${v}`).join(", ") || "–"],
  ];
  clear($("trace-summary")).append(
    el("h2", {}, root.name, " ", el("span", { class: `status-${root.status}` }, root.status)),
    el("dl", { class: "kv" }, items.map(([k, v]) => [el("dt", {}, k), el("dd", {}, v)])),
  );
}

function renderTree(runs) {
  const byParent = new Map();
  for (const r of runs) {
    const key = r.parent_run_id || "";
    if (!byParent.has(key)) byParent.set(key, []);
    byParent.get(key).push(r);
  }
  const root = runs[0];
  const t0 = Date.parse(root.start_time);
  const total = Math.max(root.latency_ms || 0, 0.001);
  const tree = clear($("run-tree"));
  const walk = (run, depth) => {
    const offset = Math.max(0, Date.parse(run.start_time) - t0);
    const left = Math.min(100, (offset / total) * 100);
    const width = Math.max(0.3, Math.min(100 - left, ((run.latency_ms || 0) / total) * 100));
    const kind = run.status === "error" ? "error"
      : (run.run_type === "chat_model" || run.run_type === "llm") ? "model" : "";
    tree.append(el("div", {
      class: "run-row", dataset: { runId: run.id }, onclick: () => selectRun(run.id),
    },
      el("div", { class: "run-name", style: { paddingLeft: `${depth * 1.1}rem` } },
        run.name, " ", el("span", { class: "run-type" }, run.run_type)),
      el("div", { class: "bar-track" },
        el("div", { class: `bar ${kind}`, style: { left: `${left}%`, width: `${width}%` } })),
      el("div", { class: "run-ms" }, fmtMs(run.latency_ms)),
    ));
    for (const child of byParent.get(run.id) || []) walk(child, depth + 1);
  };
  walk(root, 0);
}

function selectRun(runId) {
  const run = state.runs.find((r) => r.id === runId);
  if (!run) return;
  state.selectedRun = run;
  for (const row of document.querySelectorAll(".run-row")) {
    row.classList.toggle("selected", row.dataset.runId === runId);
  }
  const facts = [["Run", run.id], ["Type", run.run_type], ["Latency", fmtMs(run.latency_ms)]];
  if (run.model) facts.push(["Model", run.model]);
  if (run.total_tokens !== null || run.input_tokens !== null) {
    facts.push(["Tokens (in → out)", fmtTokens(run)], ["Cost", fmtCost(run.cost)]);
  }
  if (run.tags && run.tags.length) facts.push(["Tags", run.tags.join(", ")]);
  const detail = clear($("run-detail"));
  detail.append(el("h2", {}, run.name), el("dl", { class: "kv" },
    facts.map(([k, v]) => [el("dt", {}, k), el("dd", {}, v)])));
  if (run.error) detail.append(el("h2", {}, "Error"), el("div", { class: "error-text" }, run.error));
  detail.append(el("h2", {}, "Inputs"), renderValue(run.inputs));
  detail.append(el("h2", {}, "Outputs"), renderValue(run.outputs));
  const params = run.extra && run.extra.invocation_params;
  if (params) detail.append(el("h2", {}, "Invocation parameters"), renderJson(params));
  if (run.extra && run.extra.metadata) {
    detail.append(el("h2", {}, "Metadata"), renderJson(run.extra.metadata));
  }
  $("feedback-target").textContent = `${run.name} (${run.run_type})`;
  renderFeedback();
}

// ---- readable inputs/outputs ------------------------------------------------------------
const isMessage = (v) => v && typeof v === "object" && !Array.isArray(v)
  && typeof v.type === "string" && "content" in v;

function messageText(content) {
  if (typeof content === "string") return content;
  if (Array.isArray(content)) {
    return content.map((p) => typeof p === "string" ? p
      : p && p.type === "text" ? p.text : JSON.stringify(p)).join("\n");
  }
  return JSON.stringify(content);
}

function renderMessage(m) {
  const extra = [];
  if (m.tool_calls && m.tool_calls.length) extra.push(renderJson(m.tool_calls));
  return el("div", { class: `message ${m.type}` },
    el("div", { class: "role" }, m.name ? `${m.type} · ${m.name}` : m.type),
    el("div", { class: "content" }, messageText(m.content)), extra);
}

function renderValue(value) {
  if (value === null || value === undefined) return el("p", { class: "muted" }, "none");
  if (typeof value === "string") return el("pre", {}, value);
  if (isMessage(value)) return renderMessage(value);
  if (Array.isArray(value) && value.length && value.every(isMessage)) {
    return el("div", {}, value.map(renderMessage));
  }
  if (value.messages && Array.isArray(value.messages) && value.messages.every(isMessage)) {
    return el("div", {}, value.messages.map(renderMessage));  // a ChatPromptValue
  }
  return renderJson(value);
}

const renderJson = (value) => el("pre", {}, JSON.stringify(value, null, 2));

// ---- feedback and datasets --------------------------------------------------------------
function renderFeedback() {
  const list = clear($("feedback-list"));
  const run = state.selectedRun;
  const items = (state.trace.feedback || []).filter((f) => f.run_id === run.id);
  for (const f of items) {
    list.append(el("li", { class: "feedback-item" },
      `${f.key}: `, f.score === null ? "–" : String(f.score),
      f.comment ? ` — ${f.comment}` : "", el("span", { class: "muted" }, ` (${f.source})`)));
  }
}

async function sendFeedback(score) {
  const run = state.selectedRun;
  if (!run) return;
  try {
    const fb = await api("/api/feedback", {
      run_id: run.id, key: $("feedback-key").value.trim() || "user_score", score,
      comment: $("feedback-comment").value.trim() || null,
    });
    state.trace.feedback.push(fb);
    $("feedback-comment").value = "";
    renderFeedback();
    say("Feedback saved.");
    loadTraces();
  } catch (err) { say(err.message, true); }
}

async function addToDataset() {
  const name = $("dataset-name").value.trim();
  if (!name || !state.runs.length) { say("Give a dataset name.", true); return; }
  try {
    const res = await api("/api/datasets/add-runs", { dataset: name, run_ids: [state.runs[0].id] });
    say(`Added to dataset ${res.dataset.name} (${res.dataset.example_count} examples).`);
    loadDatasetNames();
  } catch (err) { say(err.message, true); }
}

async function loadDatasetNames() {
  const list = clear($("dataset-names"));
  for (const d of await api("/api/datasets")) list.append(el("option", { value: d.name }));
}

// ---- datasets and experiments -----------------------------------------------------------
async function loadExperiments() {
  const datasets = await api("/api/datasets");
  const names = new Map(datasets.map((d) => [d.id, d.name]));
  const dsBody = clear($("dataset-list").tBodies[0]);
  for (const d of datasets) {
    dsBody.append(el("tr", {}, el("td", {}, d.name), el("td", {}, String(d.example_count)),
      el("td", { class: "muted" }, fmtTime(d.created_at))));
  }
  const expBody = clear($("experiment-list").tBodies[0]);
  for (const e of await api("/api/experiments")) {
    expBody.append(el("tr", {},
      el("td", {}, el("input", { type: "checkbox", class: "exp-pick", value: e.id })),
      el("td", {}, e.name), el("td", {}, names.get(e.dataset_id) || e.dataset_id),
      el("td", { class: "muted" }, fmtTime(e.created_at))));
  }
}

async function compareExperiments() {
  const ids = [...document.querySelectorAll(".exp-pick:checked")].map((c) => c.value);
  if (!ids.length) { say("Pick experiments to compare.", true); return; }
  try {
    const data = await api(`/api/experiments/compare?ids=${ids.map(encodeURIComponent).join(",")}`);
    const exps = data.experiments;
    const keys = [...new Set(exps.flatMap((e) => Object.keys(data.summary[e.id] || {})))];
    const head = el("tr", {}, el("th", {}, "Example"), el("th", {}, "Reference"),
      exps.map((e) => el("th", {}, e.name)));
    const summary = el("tr", {}, el("td", {}, el("strong", {}, "Mean scores")), el("td", {}),
      exps.map((e) => el("td", { class: "score" },
        keys.map((k) => el("div", {}, `${k}: ${(data.summary[e.id][k] ?? NaN).toFixed(3)}`)))));
    const rows = data.rows.map((r) => el("tr", {},
      el("td", {}, el("pre", {}, JSON.stringify(r.example ? r.example.inputs : r.example_id))),
      el("td", {}, el("pre", {}, JSON.stringify(r.example ? r.example.outputs : null))),
      exps.map((e) => {
        const res = r.results[e.id];
        if (!res) return el("td", { class: "muted" }, "–");
        return el("td", {},
          res.error ? el("div", { class: "error-text" }, res.error)
            : el("pre", {}, typeof res.outputs === "string" ? res.outputs
              : JSON.stringify(res.outputs)),
          Object.entries(res.scores).map(([k, v]) => el("div", { class: "score" }, `${k}: ${v}`)),
          el("div", { class: "muted" }, fmtMs(res.latency_ms)));
      })));
    clear($("comparison")).append(el("table", { id: "comparison-table" },
      el("thead", {}, head), el("tbody", {}, summary, rows)));
  } catch (err) { say(err.message, true); }
}

// ---- wiring -----------------------------------------------------------------------------
function showTab(name) {
  $("view-traces").hidden = name !== "traces";
  $("view-experiments").hidden = name !== "experiments";
  $("tab-traces").classList.toggle("active", name === "traces");
  $("tab-experiments").classList.toggle("active", name === "experiments");
  if (name === "experiments") loadExperiments().catch((e) => say(e.message, true));
}

document.addEventListener("DOMContentLoaded", () => {
  $("filters").addEventListener("submit", (ev) => {
    ev.preventDefault();
    loadTraces().catch((e) => say(e.message, true));
  });
  $("feedback-up").addEventListener("click", () => sendFeedback(1));
  $("feedback-down").addEventListener("click", () => sendFeedback(0));
  $("add-to-dataset").addEventListener("click", addToDataset);
  $("tab-traces").addEventListener("click", () => showTab("traces"));
  $("tab-experiments").addEventListener("click", () => showTab("experiments"));
  $("compare").addEventListener("click", compareExperiments);
  Promise.all([loadProjects(), loadTraces(), loadDatasetNames()])
    .then(() => { document.body.dataset.ready = "1"; })
    .catch((e) => say(e.message, true));
});
