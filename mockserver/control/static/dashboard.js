// The mock's dashboard: polls the control plane's JSON and shows it. Every value a client sent is
// set with textContent, never parsed as markup; the page's CSP allows no inline script either.
"use strict";

const POLL_MS = 1000;
const TOKEN_KEY = "portkey-mock-control-token";
const SECRET_PLACEHOLDER = "<secret>";
const API_KEY_HEADER = "x-portkey-api-key";
const LEFT_OUT_HEADERS = new Set(["host", "content-length", "connection", "accept-encoding", "user-agent"]);

const state = { entries: [], signature: "", selected: null, locked: false };
const $ = (id) => document.getElementById(id);
const secretFields = new Set(document.body.dataset.secretFields.split(" ").filter(Boolean));
// The server's rule for a header that carries a credential (mockserver/contract/secrets.py).
const credentialHeader = new RegExp(document.body.dataset.credentialHeader);

function el(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (className) node.className = className;
  return node;
}

// -- talking to the control plane ----------------------------------------------------------------

class Locked extends Error {}

async function control(method, path, body) {
  const headers = {};
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token) headers["Authorization"] = "Bearer " + token;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch("/__mock" + path, { method, headers, body, cache: "no-store" });
  if (response.status === 401) throw new Locked();
  const document_ = await response.json();
  if (!response.ok) {
    const message = document_ && document_.data ? document_.data.message : response.statusText;
    throw new Error(response.status + ": " + message);
  }
  return document_;
}

function showLock(locked) {
  state.locked = locked;
  $("token-panel").hidden = !locked;
  if (locked) {
    $("live-status").textContent = "Locked: enter the control token.";
    $("token-input").focus();
  }
}

$("token-form").addEventListener("submit", (event) => {
  event.preventDefault();
  sessionStorage.setItem(TOKEN_KEY, $("token-input").value);
  $("token-input").value = "";
  showLock(false);
  refresh();
});

// -- journal -------------------------------------------------------------------------------------

function statusClass(status) {
  return String(status).charAt(0);
}

function verdictOf(entry) {
  return entry.valid ? "conforms" : "violation";
}

function matchesFilters(entry) {
  const operation = $("filter-operation").value;
  const status = $("filter-status").value;
  const verdict = $("filter-verdict").value;
  if (operation && (entry.operation || "(no operation)") !== operation) return false;
  if (status && statusClass(entry.status) !== status) return false;
  if (verdict === "valid" && !entry.valid) return false;
  if (verdict === "violation" && entry.valid) return false;
  return true;
}

function updateOperationFilter(entries) {
  const select = $("filter-operation");
  const known = new Set(Array.from(select.options).map((option) => option.value));
  for (const entry of entries) {
    const name = entry.operation || "(no operation)";
    if (!known.has(name)) {
      known.add(name);
      select.append(new Option(name, name));
    }
  }
}

function renderJournal() {
  const rows = $("journal-rows");
  const shown = state.entries.filter(matchesFilters).reverse(); // newest first
  rows.replaceChildren();
  for (const entry of shown) {
    const row = el("tr");
    row.dataset.seq = entry.seq;
    if (entry.seq === state.selected) row.className = "selected";
    row.append(el("td", entry.seq), el("td", entry.time.slice(11, 23)));
    const request = el("td");
    const open = el("button", entry.method + " " + entry.path, "link");
    open.type = "button";
    open.setAttribute("aria-label", "Open request " + entry.seq + ": " + entry.method + " " + entry.path);
    open.addEventListener("click", () => select(entry.seq));
    request.append(open);
    row.append(request, el("td", entry.operation || "(no operation)"));
    row.append(el("td", entry.status, "status s" + statusClass(entry.status)));
    const verdict = entry.valid ? "conforms" : entry.violations.length + " violation(s)";
    row.append(el("td", verdict, entry.valid ? "ok" : "bad"));
    rows.append(row);
  }
  $("journal-empty").hidden = shown.length > 0;
  $("journal-count").textContent = "(" + shown.length + " of " + state.entries.length + " shown)";
}

function select(seq) {
  state.selected = seq;
  renderJournal();
  renderEntry();
  $("entry").focus({ preventScroll: window.matchMedia("(min-width: 1000px)").matches }); // beside the list there
}

function problemItems(list, problems, none) {
  list.replaceChildren();
  for (const problem of problems) {
    const item = el("li");
    item.append(el("code", problem.location), document.createTextNode(": " + problem.rule));
    list.append(item);
  }
  if (!problems.length) list.append(el("li", none, "muted"));
}

function renderEntry() {
  const entry = state.entries.find((candidate) => candidate.seq === state.selected);
  $("entry").hidden = !entry;
  if (!entry) return;
  $("entry-title").textContent = "#" + entry.seq + " " + entry.method + " " + entry.path;
  const summary = $("entry-summary");
  summary.replaceChildren();
  const facts = [
    ["Time", entry.time],
    ["Operation", entry.operation || "(no operation; nearest: " + (entry.nearest_operation || "none") + ")"],
    ["Response status", entry.status],
    ["Verdict", entry.valid ? "conforms to the contract" : "violates the contract"],
    ["Body size", entry.body_bytes + " bytes"],
  ];
  for (const [name, value] of facts) summary.append(el("dt", name), el("dd", value));
  problemItems($("entry-violations"), entry.violations, "No violation.");
  problemItems($("entry-warnings"), entry.warnings, "No warning.");
  $("entry-query").textContent = Object.keys(entry.query).length ? JSON.stringify(entry.query, null, 2) : "(none)";
  const headers = $("entry-headers");
  headers.replaceChildren();
  for (const [name, value] of Object.entries(entry.headers)) {
    const row = el("tr");
    row.append(el("th", name), el("td", value));
    headers.append(row);
  }
  $("entry-body").textContent = entry.body === null ? "(none)" : JSON.stringify(entry.body, null, 2);
  $("entry-curl").textContent = curlOf(entry);
  $("copy-status").textContent = "";
}

// -- copy as curl (as `contracts verify` writes it: secrets as placeholders) --------------------

function shellQuote(text) {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(text) ? text : "'" + text.replace(/'/g, "'\"'\"'") + "'";
}

function withPlaceholders(value) {
  if (Array.isArray(value)) return value.map(withPlaceholders);
  if (value && typeof value === "object") {
    const shown = {};
    for (const [name, inner] of Object.entries(value)) {
      shown[name] = secretFields.has(name) ? SECRET_PLACEHOLDER : withPlaceholders(inner);
    }
    return shown;
  }
  return value;
}

function isSecretHeader(name) {
  return credentialHeader.test(name.toLowerCase());
}

function curlOf(entry) {
  const query = new URLSearchParams();
  for (const [name, values] of Object.entries(entry.query)) for (const value of values) query.append(name, value);
  let url = window.location.origin + entry.path;
  if (query.toString()) url += "?" + query.toString();
  else if (entry.bare_query) url += "?";
  const parts = ["curl", "-X", entry.method, shellQuote(url)];
  for (const [name, value] of Object.entries(entry.headers).sort()) { // by name: servers differ in order
    if (LEFT_OUT_HEADERS.has(name)) continue;
    if (name === API_KEY_HEADER) parts.push("-H", '"x-portkey-api-key: $PORTKEY_API_KEY"');
    else if (isSecretHeader(name)) parts.push("-H", shellQuote(name + ": " + SECRET_PLACEHOLDER));
    else parts.push("-H", shellQuote(name + ": " + value));
  }
  if (entry.body !== null && entry.body !== undefined) {
    parts.push("--data", shellQuote(JSON.stringify(withPlaceholders(entry.body))));
  }
  return parts.join(" ");
}

$("copy-curl").addEventListener("click", async () => {
  const text = $("entry-curl").textContent;
  try {
    await navigator.clipboard.writeText(text);
    $("copy-status").textContent = "Copied.";
  } catch (_) {
    const range = document.createRange();
    range.selectNodeContents($("entry-curl"));
    window.getSelection().removeAllRanges();
    window.getSelection().addRange(range);
    $("copy-status").textContent = "Selected: press Ctrl+C to copy.";
  }
});

for (const id of ["filter-operation", "filter-status", "filter-verdict"]) {
  $(id).addEventListener("change", renderJournal);
}

// -- store ---------------------------------------------------------------------------------------

function storeTable(headings, rows) {
  // A table of stored records: every cell is text (`el` sets textContent), never markup.
  const wrap = el("div", undefined, "table-wrap");
  const table = el("table");
  const head = el("tr");
  for (const name of headings) {
    const cell = el("th", name);
    cell.scope = "col";
    head.append(cell);
  }
  table.append(el("thead"));
  table.tHead.append(head);
  const body = el("tbody");
  for (const cells of rows) {
    const row = el("tr");
    cells.forEach((value, index) => row.append(el("td", value, index === cells.length - 1 ? "mono" : undefined)));
    body.append(row);
  }
  table.append(body);
  wrap.append(table);
  return wrap;
}

function renderStore(document_) {
  const holder = $("store-workspaces");
  holder.replaceChildren();
  for (const workspace of document_.workspaces) {
    const section = el("section", undefined, "workspace");
    const keys = workspace.api_keys.length ? " · API keys " + workspace.api_keys.join(", ") : "";
    section.append(el("h3", "Workspace " + workspace.workspace_name + " (" + workspace.total + " keys)"));
    section.append(el("p", "organisation " + workspace.organisation_id + " · workspace " + workspace.workspace_id + keys, "muted"));
    const rows = workspace.virtual_keys.map((key) => [
      key.slug, key.name, key.provider, key.masked_api_key, key.status, key.note,
      JSON.stringify({ model_config: key.model_config, usage_limits: key.usage_limits, rate_limits: key.rate_limits, expires_at: key.expires_at }),
    ]);
    section.append(storeTable(["Slug", "Name", "Provider", "Masked key", "Status", "Note", "Other fields"], rows));
    holder.append(section);
  }
  for (const organisation of document_.organisations || []) {
    const section = el("section", undefined, "workspace");
    section.append(el("h3", "Integrations of organisation " + organisation.organisation_id + " (" + organisation.total + ")"));
    const rows = organisation.integrations.map((integration) => [
      integration.slug, integration.name, integration.ai_provider_id, integration.type, integration.masked_key, integration.status,
      JSON.stringify({
        configurations: integration.configurations,
        workspace_count: integration.workspace_count,
        global_workspace_access_settings: integration.global_workspace_access_settings,
        allow_all_models: integration.allow_all_models,
      }),
    ]);
    section.append(storeTable(["Slug", "Name", "Provider", "Type", "Masked key", "Status", "Other fields"], rows));
    holder.append(section);
  }
  for (const group of document_.resources || []) {
    // Every other declared resource, per organisation and workspace (or parent record).
    const section = el("section", undefined, "workspace");
    section.append(el("h3", "Resource " + group.resource + " (" + group.total + ")"));
    const where = group.under ? " · workspace or parent " + group.under : " · the organisation's own";
    section.append(el("p", "organisation " + group.organisation_id + where, "muted"));
    const rows = group.records.map((record) => {
      const { id, slug, name, ...rest } = record;
      return [id, slug ?? "", name ?? record.email ?? "", JSON.stringify(rest)];
    });
    section.append(storeTable(["Id", "Slug", "Name", "Other fields"], rows));
    holder.append(section);
  }
  const groups = document_.workspaces.length + (document_.organisations || []).length;
  $("store-empty").hidden = groups + (document_.resources || []).length > 0;
}

// -- faults --------------------------------------------------------------------------------------

function renderFaults(plan, counters) {
  $("fault-seed").textContent = plan.seed === undefined ? "none" : plan.seed;
  $("fault-plan").textContent = JSON.stringify(plan, null, 2);
  const rows = $("fault-rows");
  rows.replaceChildren();
  plan.rules.forEach((rule, index) => {
    const row = el("tr");
    row.append(el("td", index), el("td", JSON.stringify(rule), "mono"), el("td", counters.matches[String(index)] || 0));
    rows.append(row);
  });
  $("fault-none").hidden = plan.rules.length > 0 || plan.rate_limits.length > 0;
}

async function faultAction(action, done) {
  try {
    await action();
    $("fault-message").textContent = done;
    $("fault-message").className = "ok";
  } catch (error) {
    if (error instanceof Locked) return showLock(true);
    $("fault-message").textContent = error.message;
    $("fault-message").className = "bad";
  }
  refresh();
}

$("fault-form").addEventListener("submit", (event) => {
  event.preventDefault();
  faultAction(() => control("PUT", "/faults", $("fault-input").value), "Plan set.");
});
$("fault-clear").addEventListener("click", () => faultAction(() => control("DELETE", "/faults"), "Plan cleared."));
$("mock-reset").addEventListener("click", () => {
  state.selected = null;
  faultAction(() => control("POST", "/reset"), "Mock reset: no keys, no journal, no faults.");
});

// -- polling -------------------------------------------------------------------------------------

let timer = null;

async function refresh() {
  clearTimeout(timer);
  if (state.locked) return;
  try {
    const [journal, store, plan, counters] = await Promise.all([
      control("GET", "/journal"),
      control("GET", "/store"),
      control("GET", "/faults"),
      control("GET", "/faults/counters"),
    ]);
    const last = journal.entries.length ? journal.entries[journal.entries.length - 1].seq : 0;
    const signature = journal.entries.length + ":" + last + ":" + journal.dropped;
    if (signature !== state.signature) {
      state.signature = signature;
      state.entries = journal.entries;
      updateOperationFilter(journal.entries);
      renderJournal();
      renderEntry();
    }
    renderStore(store);
    renderFaults(plan, counters);
    $("live-status").textContent = "Live · updated " + new Date().toLocaleTimeString() + " · " + journal.entries.length + " of up to " + journal.limit + " requests kept";
  } catch (error) {
    if (error instanceof Locked) return showLock(true);
    $("live-status").textContent = "Cannot reach the mock (" + error.message + "); retrying.";
  }
  timer = setTimeout(refresh, POLL_MS);
}

document.addEventListener("visibilitychange", () => {
  if (!document.hidden) refresh();
});
refresh();
