// The cluster dashboard: polls /dashboard/api/* every 2 s and draws what the nodes' heartbeats
// report. The credential (the whole Authorization header value) lives in sessionStorage only.
// Everything the server sends is written with textContent or as SVG attributes, never parsed
// as HTML, and no style is set inline: the page's CSP allows only its own script and styles.
"use strict";

const CREDENTIAL_KEY = "dashboard.credential";
const REFRESH_MS = 2000;
const SVG_NS = "http://www.w3.org/2000/svg";
const API = ["overview", "endpoints", "grains", "errors"];
const GRAIN_LABELS = { chats: "Chats", guestSessions: "Guest sessions", liveChatSessions: "Live-chat sessions" };

let timer = null;
// Bumped on sign-in and sign-out, so an answer to an older request is dropped.
let generation = 0;
let signedIn = false;

class ApiError extends Error {
  constructor(status) {
    super(`HTTP ${status}`);
    this.status = status;
  }
}

// ---- DOM helpers -------------------------------------------------------------------------

function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  setAttributes(element, attributes);
  append(element, children);
  return element;
}

function svg(tag, attributes = {}, ...children) {
  const element = document.createElementNS(SVG_NS, tag);
  setAttributes(element, attributes);
  append(element, children);
  return element;
}

function setAttributes(element, attributes) {
  for (const [name, value] of Object.entries(attributes)) {
    if (value !== null && value !== undefined && value !== false) {
      element.setAttribute(name === "className" ? "class" : name, String(value));
    }
  }
}

function append(element, children) {
  for (const child of children.flat()) {
    if (child !== null && child !== undefined) {
      element.append(child instanceof Node ? child : String(child));
    }
  }
}

const $ = (id) => document.getElementById(id);
const cell = (content, className) => h("td", { className }, content);
const num = (content) => cell(content, "num");

// ---- formatting --------------------------------------------------------------------------

const integer = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });

function rate(value) {
  return Number(value || 0).toLocaleString("en-US", { maximumFractionDigits: value < 10 ? 2 : 1 });
}

function ms(value) {
  return `${Number(value).toLocaleString("en-US", { maximumFractionDigits: 2 })} ms`;
}

function megabytes(value) {
  return `${Number(value).toLocaleString("en-US", { maximumFractionDigits: 1 })} MB`;
}

function uptime(seconds) {
  let rest = Math.max(0, Math.floor(seconds));
  const days = Math.floor(rest / 86400);
  rest %= 86400;
  const hours = Math.floor(rest / 3600);
  rest %= 3600;
  const minutes = Math.floor(rest / 60);
  const secs = rest % 60;
  if (days > 0) return `${days}d ${hours}h`;
  if (hours > 0) return `${hours}h ${minutes}m`;
  if (minutes > 0) return `${minutes}m ${secs}s`;
  return `${secs}s`;
}

function clock(iso) {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? String(iso) : date.toLocaleTimeString("en-GB", { hour12: false });
}

function time(iso) {
  return h("time", { datetime: iso, title: iso }, clock(iso));
}

// Latency of an interval without requests is not 0 ms: there is none.
function latencies(latency, requests) {
  return requests > 0 ? [ms(latency.p50Ms), ms(latency.p95Ms), ms(latency.p99Ms)] : ["—", "—", "—"];
}

// ---- API ---------------------------------------------------------------------------------

async function getJson(name, credential) {
  const headers = { Accept: "application/json" };
  if (credential) headers.Authorization = credential;
  const response = await fetch(`/dashboard/api/${name}`, { headers, cache: "no-store" });
  if (!response.ok) throw new ApiError(response.status);
  return response.json();
}

async function loadAll(credential) {
  const [overview, endpoints, grains, errors] = await Promise.all(API.map((name) => getJson(name, credential)));
  return { overview, endpoints, grains, errors };
}

const isAuthError = (error) => error instanceof ApiError && (error.status === 401 || error.status === 403);

// ---- rendering ---------------------------------------------------------------------------

function card(label, value, sub, attributes = {}) {
  return h("div", { className: "card", ...attributes },
    h("p", { className: "label" }, label),
    h("p", { className: "value" }, value),
    [sub].flat().filter(Boolean).map((line) => h("p", { className: "sub" }, line)));
}

function renderTotals(totals) {
  const requests = totals.requestsPerSecond > 0 ? 1 : 0;
  const [p50, p95, p99] = latencies(totals.latency, requests);
  $("totals").replaceChildren(
    card("Nodes alive", integer.format(totals.alive), `${totals.left} left · ${totals.dead} dead`, { "data-total": "nodes" }),
    card("Requests/s", rate(totals.requestsPerSecond), "all alive nodes", { "data-total": "rps" }),
    card("p99 latency", p99, `p50 ${p50} · p95 ${p95}`, { "data-total": "latency" }),
    card("4xx", integer.format(totals.clientErrors), "client errors", { "data-total": "4xx" }),
    card("5xx", integer.format(totals.serverErrors), "server errors", { "data-total": "5xx", className: totals.serverErrors > 0 ? "card bad" : "card" }),
    card("429", integer.format(totals.rateLimited), "rate limited", { "data-total": "429", className: totals.rateLimited > 0 ? "card warn" : "card" }));
}

function renderGrains(grains) {
  $("grains").replaceChildren(...grains.map((grain) => card(
    GRAIN_LABELS[grain.kind] || grain.kind,
    `${grain.totalIsEstimate ? "≈ " : ""}${integer.format(grain.total)}`,
    [`+${integer.format(grain.lastMinute)} last minute`, `+${integer.format(grain.lastHour)} last hour`],
    { "data-kind": grain.kind, title: grain.totalIsEstimate ? "Total is the database's estimate" : null })));
}

function renderNodes(nodes) {
  const rows = nodes.map((node) => {
    const alive = node.status === "alive";
    const stats = node.stats;
    const where = h("span", { className: "sub" }, `${node.host} · ${node.url}`,
      alive ? null : [" · last heartbeat ", time(node.heartbeatAt)]);
    const figures = stats
      ? [
        num(rate(stats.requestsPerSecond)),
        ...latencies(stats.latency, stats.requestsPerSecond).map(num),
        num(integer.format(stats.clientErrors)),
        num(integer.format(stats.serverErrors)),
        num(integer.format(stats.rateLimited)),
        num(`${stats.cpuPercent.toFixed(1)} %`),
        num(megabytes(stats.workingSetMb)),
        num(megabytes(stats.gcHeapMb)),
        num(integer.format(stats.threadPoolQueue)),
        num(integer.format(stats.databaseConnections)),
      ]
      : Array.from({ length: 12 }, () => num("—"));
    return h("tr", { className: alive ? "node" : "node inactive", "data-status": node.status, "data-node": node.nodeId },
      cell([h("span", { className: "node-id" }, node.nodeId), where]),
      cell(h("span", { className: `badge ${node.status}` }, node.status)),
      cell(node.version),
      num(alive ? uptime(node.uptimeSeconds) : "—"),
      figures);
  });
  $("nodes").tBodies[0].replaceChildren(...(rows.length > 0 ? rows : [emptyRow(16, "No node has registered yet.")]));
}

function figureCells(figures) {
  return [
    num(rate(figures.requestsPerSecond)),
    num(integer.format(figures.requests)),
    ...latencies(figures.latency, figures.requests).map(num),
    num(integer.format(figures.clientErrors)),
    num(integer.format(figures.serverErrors)),
    num(integer.format(figures.rateLimited)),
  ];
}

function renderEndpoints(endpoints) {
  const rows = [];
  for (const endpoint of endpoints) {
    rows.push(h("tr", { className: "endpoint", "data-route": endpoint.route },
      cell(h("code", {}, endpoint.route)),
      figureCells(endpoint.cluster),
      cell(chart(endpoint.history, (point) => point.requestsPerSecond, "requests/s", rate), "chart-cell"),
      cell(chart(endpoint.history, (point) => point.p99Ms, "p99", ms), "chart-cell")));
    for (const [nodeId, figures] of Object.entries(endpoint.nodes).sort(([a], [b]) => a.localeCompare(b))) {
      rows.push(h("tr", { className: "endpoint-node", "data-route": endpoint.route, "data-node": nodeId },
        cell(nodeId, "per-node"),
        figureCells(figures),
        cell(""),
        cell("")));
    }
  }
  $("endpoints").tBodies[0].replaceChildren(...(rows.length > 0 ? rows : [emptyRow(11, "No API traffic in the last 5 minutes.")]));
}

function renderErrors(errors) {
  const rows = errors.map((error) => h("tr", { className: "error-row" },
    cell(time(error.at)),
    num(error.status),
    cell(h("code", {}, error.route)),
    cell(error.nodeId),
    cell(h("code", {}, error.traceId))));
  $("errors").tBodies[0].replaceChildren(...(rows.length > 0 ? rows : [emptyRow(5, "No server errors in the last 5 minutes.")]));
}

function emptyRow(columns, text) {
  return h("tr", { className: "empty" }, h("td", { colspan: columns }, text));
}

/** A small line chart of one series over the history points, x by time, y from 0 to the maximum. */
function chart(points, valueOf, label, format) {
  const width = 160;
  const height = 44;
  const pad = 3;
  const top = 13; // room for the "max" label above the line
  const figure = svg("svg", { className: "chart", viewBox: `0 0 ${width} ${height}`, width, height, role: "img" });
  if (points.length === 0) {
    figure.append(svg("title", {}, `${label}: no data yet`));
    figure.append(svg("line", { className: "axis", x1: pad, x2: width - pad, y1: height - pad, y2: height - pad }));
    return figure;
  }
  const times = points.map((point) => new Date(point.at).getTime());
  const values = points.map(valueOf);
  const first = times[0];
  const span = times[times.length - 1] - first;
  const max = Math.max(...values);
  const scale = max > 0 ? max : 1;
  const x = (t) => (span > 0 ? pad + ((t - first) / span) * (width - 2 * pad) : width - pad);
  const y = (v) => height - pad - (v / scale) * (height - pad - top);
  const coordinates = values.map((value, i) => `${x(times[i]).toFixed(1)},${y(value).toFixed(1)}`);
  const last = values.length - 1;
  figure.append(
    svg("title", {}, `${label}: now ${format(values[last])}, max ${format(max)} over ${points.length} points`),
    svg("line", { className: "axis", x1: pad, x2: width - pad, y1: height - pad, y2: height - pad }),
    svg("polygon", { className: "area", points: [`${x(first).toFixed(1)},${height - pad}`, ...coordinates, `${x(times[last]).toFixed(1)},${height - pad}`].join(" ") }),
    svg("polyline", { className: "line", points: coordinates.join(" ") }),
    svg("circle", { className: "dot", cx: x(times[last]).toFixed(1), cy: y(values[last]).toFixed(1), r: 2.5 }),
    svg("text", { className: "max", x: width - pad, y: 9, "text-anchor": "end" }, `max ${format(max)}`));
  return figure;
}

function render(data) {
  renderTotals(data.overview.totals);
  renderGrains(data.grains);
  renderNodes(data.overview.nodes);
  renderEndpoints(data.endpoints);
  renderErrors(data.errors);
  const updated = $("updated");
  updated.textContent = clock(data.overview.generatedAt);
  updated.title = data.overview.generatedAt;
}

function clearData() {
  for (const id of ["totals", "grains"]) $(id).replaceChildren();
  for (const id of ["nodes", "endpoints", "errors"]) $(id).tBodies[0].replaceChildren();
  $("updated").textContent = "—";
}

// ---- state -------------------------------------------------------------------------------

function showDashboard() {
  $("login").hidden = true;
  $("content").hidden = false;
  $("sign-out").hidden = sessionStorage.getItem(CREDENTIAL_KEY) === null;
}

function showLogin(message) {
  signedIn = false;
  clearTimeout(timer);
  clearData();
  setConnection(null);
  $("content").hidden = true;
  $("sign-out").hidden = true;
  $("login").hidden = false;
  $("login-error").textContent = message || "";
  $("token").focus();
}

function setConnection(message) {
  const connection = $("connection");
  connection.textContent = message || "";
  connection.hidden = !message;
}

function schedule() {
  clearTimeout(timer);
  timer = setTimeout(refresh, REFRESH_MS);
}

function authMessage(status, hadCredential) {
  if (status === 403) return "Access denied: admin role required.";
  return hadCredential ? "The saved credential was not accepted (expired or changed). Sign in again." : "";
}

async function refresh() {
  clearTimeout(timer);
  if (document.hidden) {
    schedule();
    return;
  }
  const started = generation;
  const credential = sessionStorage.getItem(CREDENTIAL_KEY);
  try {
    const data = await loadAll(credential);
    if (started !== generation) return;
    signedIn = true;
    render(data);
    showDashboard();
    setConnection(null);
    schedule();
  } catch (error) {
    if (started !== generation) return;
    if (isAuthError(error)) {
      sessionStorage.removeItem(CREDENTIAL_KEY);
      showLogin(authMessage(error.status, credential !== null));
    } else {
      // Keep the last figures on screen and try again: the node may be restarting.
      setConnection(error instanceof ApiError ? `The node answered ${error.status}; retrying…` : "Cannot reach the node; retrying…");
      schedule();
    }
  }
}

function base64Utf8(text) {
  let binary = "";
  for (const byte of new TextEncoder().encode(text)) binary += String.fromCharCode(byte);
  return btoa(binary);
}

function credentialFromForm(form) {
  const token = form.elements.token.value.trim().replace(/^Bearer\s+/i, "");
  const username = form.elements.username.value;
  const password = form.elements.password.value;
  if (token) return { credential: `Bearer ${token}`, kind: "token" };
  if (username && password) return { credential: `Basic ${base64Utf8(`${username}:${password}`)}`, kind: "basic" };
  return null;
}

async function signIn(event) {
  event.preventDefault();
  const form = event.currentTarget;
  const error = $("login-error");
  const entered = credentialFromForm(form);
  if (!entered) {
    error.textContent = "Enter an admin token, or a username and password.";
    return;
  }
  const button = $("sign-in");
  const started = ++generation;
  button.disabled = true;
  error.textContent = "";
  try {
    const data = await loadAll(entered.credential);
    if (started !== generation) return;
    sessionStorage.setItem(CREDENTIAL_KEY, entered.credential);
    form.reset();
    signedIn = true;
    render(data);
    showDashboard();
    schedule();
  } catch (failure) {
    if (started !== generation) return;
    if (failure instanceof ApiError && failure.status === 403) {
      error.textContent = authMessage(403, true);
    } else if (failure instanceof ApiError && failure.status === 401) {
      error.textContent = entered.kind === "token" ? "The token was not accepted (invalid or expired)." : "Wrong username or password.";
    } else {
      error.textContent = "Cannot reach the node. Try again.";
    }
  } finally {
    button.disabled = false;
  }
}

function signOut() {
  generation++;
  sessionStorage.removeItem(CREDENTIAL_KEY);
  showLogin("Signed out.");
}

document.addEventListener("DOMContentLoaded", () => {
  $("login-form").addEventListener("submit", signIn);
  $("sign-out").addEventListener("click", signOut);
  document.addEventListener("visibilitychange", () => {
    if (!document.hidden && signedIn) refresh();
  });
  refresh();
});
