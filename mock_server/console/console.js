// The mock console: reads and drives the mock through its /__mock__/ controls only.
// Every call sends the session this page looks at (X-Mock-Session) and, when one was typed, the admin
// token (X-Mock-Admin-Token, kept in sessionStorage for this tab only). No framework, no build step.
"use strict";

const POLL_MS = 1000;
const KEEP = 500; // requests kept on the page (the mock keeps 200 per session)
const LAYERS = {
  routing: "routing (no operation takes this method and path, or the announced body is too large)",
  auth: "authentication (credentials missing or refused)",
  validation: "validation (the request breaks the contract's schema)",
  rules: "rules (a rule of the API beyond the schema)",
  forced: "a forced answer (Prefer / ?__code)",
  fault: "an injected fault (/__mock__/faults)",
  handler: "the handler (served from the session's state)",
  docs: "the documentation (Swagger UI or the served spec)",
  none: "nobody: the client went away before the answer",
  upstream: "the upstream (proxied; the proxy judged its answer)",
  contract: "the proxy (--errors): the upstream's answer broke the contract, replaced by a 502",
};

const $ = (id) => document.getElementById(id);
const state = {
  session: sessionFromHash(), token: sessionStorage.getItem("mock-console-token") || "",
  entries: [], after: 0, selected: null, operations: {}, polling: null, tick: 0,
  expanded: new Set(), specNodes: {}, shownKeys: "", loaded: false,
};

function sessionFromHash() {
  const match = /(?:^#|&)session=([^&]*)/.exec(location.hash);
  if (!match) return "";
  try { return decodeURIComponent(match[1]); } catch (_) { return match[1]; } // a bad % escape: as typed
}

// A header carries bytes: a name beyond Latin-1 goes as its UTF-8 bytes (what curl sends for it), and
// control characters, which no client can send, are left out.
function headerValue(text) {
  const clean = text.replace(/[\x00-\x1f\x7f]/g, "");
  if (/^[\x20-\xff]*$/.test(clean)) return clean;
  return Array.from(new TextEncoder().encode(clean), (byte) => String.fromCharCode(byte)).join("");
}

function hashOf(name) {
  try { return "#session=" + encodeURIComponent(name); } catch (_) { return "#session=" + escape(name); }
}

// -- talking to the mock ---------------------------------------------------------------------------------

async function call(method, path, body) {
  const headers = {Accept: "application/json"};
  if (state.session) headers["X-Mock-Session"] = headerValue(state.session);
  if (state.token) headers["X-Mock-Admin-Token"] = state.token;
  if (method === "POST") headers["Content-Type"] = "application/json";
  const response = await fetch("/__mock__" + path, {
    method, headers, body: method === "POST" ? JSON.stringify(body || {}) : undefined,
    cache: "no-store", credentials: "omit",
  });
  const text = await response.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch (_) { data = text; }
  if (response.status === 403) {
    throw new Error(state.token ? "The mock refused the admin token typed in the “Admin token” field."
      : "The mock was started with --admin-token: type it in the “Admin token” field.");
  }
  if (!response.ok) {
    const detail = data && typeof data === "object" ? (data.detail || JSON.stringify(data)) : String(data);
    throw new Error(`${method} /__mock__${path}: ${response.status} ${detail}`);
  }
  return data;
}

function notice(text, isError, fromPoll) {
  const box = $("notice");
  box.textContent = text || "";
  box.hidden = !text;
  box.classList.toggle("error", Boolean(isError));
  box.dataset.fromPoll = fromPoll ? "1" : "";
}

async function act(what) {
  try { await what(); notice(""); } catch (error) { notice(error.message, true); }
  await refreshSide();
}

// -- small DOM helpers (text only: nothing a request held is ever parsed as HTML) ------------------------

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

function clock(iso) {
  const time = new Date(iso);
  if (Number.isNaN(time.getTime())) return iso || "";
  return time.toLocaleTimeString([], {hour12: false}) + "." + String(time.getMilliseconds()).padStart(3, "0");
}

function statusBadge(status) {
  return el("span", {class: `status s${String(status)[0]}`}, status);
}

function pretty(text) {
  if (text === undefined || text === null || text === "") return null;
  try { return JSON.stringify(JSON.parse(text), null, 2); } catch (_) { return String(text); }
}

// -- requests --------------------------------------------------------------------------------------------

function isRejected(entry) { return entry.status >= 400 && !entry.forced; }

function matches(entry) {
  const status = $("filter-status").value, operation = $("filter-operation").value;
  const text = $("filter-text").value.trim().toLowerCase();
  if (status === "rejected" && entry.status < 400) return false;
  if (/^[2-5]$/.test(status) && String(entry.status)[0] !== status) return false;
  if (operation && entry.operation_id !== operation) return false;
  if (text) {
    const haystack = [entry.method, entry.path, entry.status, entry.operation_id, entry.session, entry.forced,
      entry.layer, ...(entry.errors || []).flatMap((e) => [e.field, e.rule, e.message]),
      ...(entry.findings || []).flatMap((f) => [f.kind, f.rule, f.assumption, f.field, f.message])]
      .join(" ").toLowerCase();
    if (!haystack.includes(text)) return false;
  }
  return true;
}

function specLinks(entry, error) {
  const operation = state.operations[entry.operation_id];
  const links = el("span", {class: "links"});
  if (operation) {
    links.append(el("a", {href: operation.ui, target: "_blank", rel: "noopener",
                          title: `${operation.operation_id} in Swagger UI`}, "Swagger UI ↗"), " ");
  }
  if (!error.spec) return [links, null];
  // The rule itself, fetched once by its JSON pointer; which ones are open survives the list's re-rendering.
  const key = `${entryKey(entry)} ${error.spec}`;
  const holder = el("div");
  const show = () => {
    const node = state.specNodes[error.spec];
    holder.replaceChildren(...(state.expanded.has(key) && node !== undefined
      ? [el("pre", {class: "node"}, typeof node === "string" ? node : nodeText(error.spec, node.node))] : []));
  };
  links.append(el("button", {type: "button", class: "pointer", title: "Show this part of openapi.yaml",
    onclick: async (event) => {
      event.stopPropagation();
      if (state.expanded.has(key)) { state.expanded.delete(key); show(); return; }
      state.expanded.add(key);
      if (state.specNodes[error.spec] === undefined) {
        try { state.specNodes[error.spec] = await call("GET", "/spec?pointer=" + encodeURIComponent(error.spec)); }
        catch (failure) { state.specNodes[error.spec] = failure.message; }
      }
      show();
    }}, error.spec));
  show();
  return [links, holder];
}

function nodeText(pointer, node) {
  // A rule's value reads better with its name: "minimum: 1", not "1".
  const name = decodeURIComponent(pointer.split("/").pop()).replace(/~1/g, "/").replace(/~0/g, "~");
  return node !== null && typeof node === "object" ? JSON.stringify(node, null, 2) : `${name}: ${JSON.stringify(node)}`;
}

function errorList(entry) {
  const items = (entry.errors || []).map((error) => {
    const [links, holder] = specLinks(entry, error);
    return el("li", {},
      error.field ? [el("span", {class: "field-name"}, error.field), " "] : null,
      el("span", {class: "rule"}, error.rule), " ", error.message, " ", links, holder);
  });
  if (entry.errors_not_shown) items.push(el("li", {class: "empty"}, `… and ${entry.errors_not_shown} more`));
  return el("ul", {class: "errors"}, items);
}

// The validating proxy's findings of one exchange: violations red, refuted assumptions amber, each with its
// rule or assumption id and its place in openapi.yaml (click it to see that part of the spec).
function findingList(entry) {
  const items = (entry.findings || []).map((finding) => {
    const kind = finding.kind === "violation" ? "violation" : "assumption";
    const [links, holder] = specLinks(entry, finding);
    return el("li", {class: `finding ${kind}`, "data-kind": kind},
      el("span", {class: `tag ${kind}`}, finding.kind), " ",
      el("span", {class: "rule"}, finding.assumption || finding.rule), " ",
      finding.field ? [el("span", {class: "field-name"}, finding.field), " "] : null,
      finding.message, " ", el("span", {class: "empty"}, `(${finding.direction}, ${finding.where})`), " ", links, holder);
  });
  if (entry.findings_not_shown) items.push(el("li", {class: "empty"}, `… and ${entry.findings_not_shown} more`));
  return el("ul", {class: "findings"}, items);
}

function proxyLine(entry) {
  const proxy = entry.proxy;
  if (!proxy) return null;
  const upstream = proxy.upstream_status !== null && proxy.upstream_status !== undefined
    ? `upstream ${proxy.upstream_status} in ${proxy.upstream_ms} ms` : "upstream not asked";
  return el("div", {class: "empty"}, el("span", {class: "tag by"}, `answered by ${proxy.answered_by}`), ` ${upstream}`,
    (proxy.notes || []).length ? ` — ${proxy.notes.join("; ")}` : "");
}

function renderRequests() {
  const body = $("requests").tBodies[0];
  const shown = state.entries.filter(matches);
  const rows = [];
  for (const entry of shown) {
    const kind = entry.forced ? "forced" : isRejected(entry) ? "rejected" : "";
    const key = entryKey(entry);
    rows.push(el("tr", {class: `req ${kind} ${state.selected === key ? "selected" : ""}`, "data-key": key,
                        onclick: () => select(entry)},
      el("td", {}, clock(entry.time)),
      el("td", {class: "method"}, entry.method),
      el("td", {}, breakable(entry.path)),
      el("td", {}, statusBadge(entry.status), entry.forced ? [" ", el("span", {class: "tag forced"}, "forced")] : null),
      el("td", {}, entry.ms),
      el("td", {}, sessionLabel(entry.session !== undefined ? entry.session : state.session || null))));
    if (entry.status >= 400 && ((entry.errors || []).length || entry.forced)) {
      rows.push(el("tr", {class: `why ${kind}`}, el("td", {colspan: 6},
        entry.forced ? el("div", {class: "empty"}, entry.forced) : null, errorList(entry))));
    }
    if (entry.proxy) {
      rows.push(el("tr", {class: "why proxied", "data-key": key}, el("td", {colspan: 6},
        proxyLine(entry), (entry.findings || []).length ? findingList(entry) : null)));
    }
  }
  body.replaceChildren(...rows);
  $("loading-requests").hidden = state.loaded;
  $("no-requests").hidden = !state.loaded || state.entries.length > 0;
  const rejected = state.entries.filter((e) => e.status >= 400).length;
  $("count").textContent = state.entries.length
    ? `${shown.length} shown of ${state.entries.length}, ${rejected} with 4xx/5xx` : "";
}

// A path may wrap only after a "/" (a <wbr> there), never inside an id or a word.
function breakable(path) {
  return String(path).split("/").flatMap((part, index) => (index ? [el("wbr"), "/" + part] : [part]));
}

function entryKey(entry) {
  return entry.id !== undefined ? `#${entry.id}` : `${entry.time} ${entry.method} ${entry.path} ${entry.status}`;
}

function sessionLabel(name) { return name ? name : "(default)"; }

function select(entry) {
  state.selected = entryKey(entry);
  renderRequests();
  const operation = state.operations[entry.operation_id];
  const request = pretty(entry.request_body), response = pretty(entry.response_body);
  const layer = entry.layer ? (LAYERS[entry.layer] || entry.layer)
    : entry.forced ? LAYERS.forced : "(this mock's log does not name it)";
  $("story-empty").hidden = true;
  const story = $("story-body");
  story.hidden = false;
  story.replaceChildren(...[
    el("dl", {},
      el("dt", {}, "request"), el("dd", {class: "mono"}, `${entry.method} ${entry.path}`),
      el("dt", {}, "answer"), el("dd", {}, statusBadge(entry.status), ` in ${entry.ms} ms at ${clock(entry.time)}`),
      el("dt", {}, "answered by"), el("dd", {class: "layer"}, layer),
      el("dt", {}, "operation"), el("dd", {}, operation
        ? el("a", {href: operation.ui, target: "_blank", rel: "noopener"}, `${operation.operation_id} ↗`)
        : "none (no operation of the contract takes it)"),
      el("dt", {}, "session"), el("dd", {}, sessionLabel(entry.session !== undefined ? entry.session : state.session)),
      entry.forced ? [el("dt", {}, "forced"), el("dd", {}, entry.forced)] : null),
    (entry.errors || []).length ? [el("h3", {}, "why it was refused"), errorList(entry)] : null,
    entry.proxy ? [el("h3", {}, "proxied"), proxyLine(entry)] : null,
    (entry.findings || []).length ? [el("h3", {}, "contract findings"), findingList(entry)] : null,
    el("h3", {}, "request body"),
    request === null ? el("p", {class: "empty"}, entry.request_body === undefined ? "(not logged)" : "(empty)")
      : el("pre", {class: "body"}, request),
    el("h3", {}, "response body"),
    response === null ? el("p", {class: "empty"}, entry.response_body === undefined ? "(not logged)" : "(empty)")
      : el("pre", {class: "body"}, response),
  ].flat().filter(Boolean));
}

function clearStory() {
  state.selected = null;
  $("story-empty").hidden = false;
  $("story-body").hidden = true;
  $("story-body").replaceChildren();
}

async function pollRequests() {
  const incremental = state.after > 0;
  // Swagger UI's own requests (its page, assets and the spec documents) only when asked for.
  const docs = $("show-docs").checked ? "&docs=1" : "";
  const fresh = await call("GET", "/requests?limit=200" + docs + (incremental ? `&after=${state.after}` : ""));
  if (incremental) {
    if (fresh.length) state.entries = fresh.concat(state.entries).slice(0, KEEP);
  } else {
    state.entries = fresh;
  }
  // Entries carry increasing ids: then only the new ones are asked for; without ids, the last 200 each time.
  const ids = state.entries.map((e) => e.id).filter((id) => Number.isInteger(id));
  state.after = ids.length ? Math.max(...ids) : 0;
  const keys = state.entries.map(entryKey).join("\n");
  const first = !state.loaded;
  state.loaded = true;
  if (keys !== state.shownKeys || first) { state.shownKeys = keys; renderRequests(); }
}

// -- sessions, experiments, faults ----------------------------------------------------------------------

async function refreshSessions() {
  const sessions = await call("GET", "/sessions");
  const current = sessions.find((s) => (s.session || "") === state.session);
  // Reset elsewhere (another tab, a test's fixture): the mock holds fewer entries than this page saw. It keeps 200.
  const api = state.entries.filter((e) => e.layer !== "docs").length; // the count the mock gives is of API calls
  if (current && (current.last_request_id < state.after || Math.min(api, 200) > current.requests)) {
    state.after = 0; state.entries = []; clearStory();
  }
  const picker = $("session");
  const names = sessions.map((s) => s.session || "");
  if (!names.includes(state.session)) names.push(state.session);
  const wanted = names.join("\n");
  if (picker.dataset.names !== wanted) {
    picker.replaceChildren(...names.map((name) => el("option", {value: name}, sessionLabel(name))));
    picker.dataset.names = wanted;
  }
  picker.value = state.session;
  $("sessions").tBodies[0].replaceChildren(...sessions.map((s) => el("tr", {
    class: (s.session || "") === state.session ? "current" : "", title: "Look at this session",
    onclick: () => switchSession(s.session || "")},
  el("td", {}, sessionLabel(s.session)), el("td", {}, s.requests), el("td", {}, s.faults),
  el("td", {}, s.experiments))));
}

async function refreshExperiments() {
  const experiments = await call("GET", "/experiments");
  const move = (experiment, action, extra) => act(() => call("POST",
    `/experiments/${encodeURIComponent(experiment.id)}/lifecycle`,
    {action, organization_id: experiment.organization_id, ...(extra || {})}));
  $("experiments").tBodies[0].replaceChildren(...experiments.map((experiment) => {
    const can = new Set(experiment.actions);
    const progress = typeof experiment.progress === "number" ? experiment.progress : 0;
    return el("tr", {"data-id": experiment.id},
      el("td", {title: `${experiment.name || ""} (${experiment.organization_id})`},
        experiment.name || "(unnamed)", el("span", {class: "id"}, experiment.id)),
      el("td", {}, el("span", {class: `pill ${experiment.status}`}, experiment.status)),
      el("td", {}, el("progress", {max: 100, value: progress}), ` ${Math.round(progress)}%`),
      el("td", {}, can.size ? [
        can.has("start") && el("button", {type: "button", onclick: () => move(experiment, "start")}, "start"),
        can.has("progress") && el("button", {type: "button", title: "progress + 25",
          onclick: () => move(experiment, "progress", {progress: Math.min(100, progress + 25)})}, "+25%"),
        can.has("complete") && el("button", {type: "button", onclick: () => move(experiment, "complete")}, "complete"),
        can.has("fail") && el("button", {type: "button",
          onclick: () => move(experiment, "fail", {error_message: "Failed from the mock console."})}, "fail"),
      ] : el("span", {class: "empty"}, "finished")));
  }));
}

async function refreshFaults() {
  const faults = await call("GET", "/faults");
  $("faults").tBodies[0].replaceChildren(...(faults.length ? faults.map((fault) => el("tr", {},
    el("td", {class: "mono"}, fault.operation_id), el("td", {}, statusBadge(fault.status)),
    el("td", {}, fault.count),
    el("td", {}, el("button", {type: "button", onclick: () => act(() =>
      call("DELETE", "/faults/" + encodeURIComponent(fault.operation_id)))}, "clear"))))
    : [el("tr", {}, el("td", {colspan: 4, class: "empty"}, "No fault pending."))]));
}

async function loadOperations() {
  const operations = await call("GET", "/operations");
  state.operations = Object.fromEntries(operations.map((o) => [o.operation_id, o]));
  const label = (o) => `${o.operation_id} (${o.method} ${o.path.replace(/^\/api\/v2/, "")})`;
  $("filter-operation").append(...operations.map((o) => el("option", {value: o.operation_id}, label(o))));
  $("fault-operation").replaceChildren(...operations.map((o) => el("option", {value: o.operation_id}, label(o))));
}

async function refreshSide() {
  await Promise.all([refreshSessions(), refreshExperiments(), refreshFaults()]);
}

function switchSession(name) {
  if (name === state.session) return;
  state.session = name;
  history.replaceState(null, "", name ? hashOf(name) : location.pathname);
  state.entries = []; state.after = 0; clearStory(); renderRequests();
  restart();
}

// -- the loop -------------------------------------------------------------------------------------------

async function poll() {
  const live = $("live");
  try {
    if (state.tick % 2 === 0) await refreshSide();
    await pollRequests();
    live.textContent = "live"; live.className = "live on";
    if ($("notice").dataset.fromPoll) notice("");
  } catch (error) {
    live.textContent = "not reaching the mock"; live.className = "live off";
    notice(error.message, true, true);
  }
  state.tick += 1;
  state.polling = setTimeout(poll, POLL_MS);
}

function restart() {
  clearTimeout(state.polling);
  state.tick = 0;
  poll();
}

async function start() {
  $("token").value = state.token;
  $("token").addEventListener("change", () => {
    state.token = $("token").value;
    if (state.token) sessionStorage.setItem("mock-console-token", state.token);
    else sessionStorage.removeItem("mock-console-token");
    notice("");
    if (!Object.keys(state.operations).length) loadOperations().catch(() => {});
    restart();
  });
  $("session").addEventListener("change", () => switchSession($("session").value));
  for (const id of ["filter-status", "filter-operation", "filter-text"]) $(id).addEventListener("input", renderRequests);
  $("show-docs").addEventListener("change", () => {
    state.after = 0; state.entries = []; state.shownKeys = "";
    pollRequests().catch(() => {});
  });
  $("reset").addEventListener("click", () => act(async () => {
    await call("POST", "/reset");
    state.entries = []; state.after = 0; clearStory(); renderRequests();
  }));
  $("download").addEventListener("click", () => act(async () => {
    const world = await call("GET", "/state");
    const link = el("a", {download: `mock-state-${state.session || "default"}.json`,
                          href: URL.createObjectURL(new Blob([JSON.stringify(world, null, 2)],
                                                            {type: "application/json"}))});
    document.body.append(link); link.click(); link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 10000);
  }));
  $("fault-form").addEventListener("submit", (event) => {
    event.preventDefault();
    act(() => call("POST", "/faults", {operation_id: $("fault-operation").value,
                                       status: Number($("fault-status").value), count: Number($("fault-count").value)}));
  });
  window.addEventListener("hashchange", () => switchSession(sessionFromHash()));
  try { await loadOperations(); } catch (error) { notice(error.message, true); }
  document.body.dataset.ready = "1";
  poll();
}

start();
