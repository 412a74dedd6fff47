/**
 * The status page: follows /status/stream and draws every connector (state, a throughput
 * sparkline, snapshot bars with ETA, lag, the last error, schema changes), with pause, resume,
 * restart and a table's snapshot as buttons. The stream is read with fetch, not EventSource, so the
 * admin token can go in a header; the token is asked for when the API refuses, and kept in
 * sessionStorage (this tab only).
 */

const TOKEN_KEY = "liberator.adminToken";
/** Throughput points a sparkline keeps: one per document the stream sends, about one a second. */
const SPARK_POINTS = 120;
const RECONNECT_MS = 2000;
const SCHEMAS_SHOWN = 5;
const SVG = "http://www.w3.org/2000/svg";

/**
 * @typedef {{ kind: string, done: number, estimated: number, rowsPerSecond: number | null, etaSeconds: number | null, finishedAt: string | null }} TableProgress
 * @typedef {{ subject: string, id: number, previousId: number | null, registered: boolean, at: string }} SchemaSeen
 * @typedef {{
 *   name: string, type: string, kind: "source" | "sink", state: string, worker: string | null, records: number, rowsPerSecond: number,
 *   snapshot: Record<string, TableProgress> | null,
 *   stream: { secondsBehind: number | null, bytesBehind: number | null, lastEventAt: string | null } | null,
 *   lag: { seconds?: number, partitions?: { topic: string, partition: number, lag: number }[] } | null,
 *   lastError: { code: string, category: string, message: string, at: string } | null,
 *   retry: { since: string, attempt: number, nextAttemptAt: string | null } | null,
 *   lastRecovery: { code: string, message: string, recoveredAt: string } | null,
 *   schemas: SchemaSeen[],
 * }} Connector
 * @typedef {{ at: string, connectors: Connector[] } | { error: { error: string } }} StatusDocument
 * @typedef {{ root: HTMLElement, state: HTMLElement, meta: HTMLElement, facts: HTMLElement, spark: number[] }} Card
 */

/** @type {Map<string, Card>} */
const cards = new Map();
/** Requests the API refused for want of a token, to make again once one is given. */
/** @type {(() => void)[]} */
let waitingForToken = [];

/** @param {string} id */
function byId(id) {
  const e = document.getElementById(id);
  if (!e) throw new Error(`the page has no #${id}`);
  return e;
}

/**
 * @param {string} tag
 * @param {Record<string, string>} attrs
 * @param {(Node | string)[]} children
 */
function h(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  e.append(...children);
  return e;
}

/** JSON as `unknown`, for the caller to say what it expects. @param {string} text @returns {unknown} */
function json(text) {
  return JSON.parse(text);
}

/** @returns {Record<string, string>} */
function auth() {
  const token = sessionStorage.getItem(TOKEN_KEY);
  return token ? { authorization: `Bearer ${token}` } : {};
}

/** @param {string} text @param {"info" | "error"} kind */
function say(text, kind = "info") {
  const notice = byId("notice");
  notice.textContent = text;
  notice.dataset.kind = kind;
  notice.hidden = false;
}

/** @param {"connecting" | "live" | "disconnected" | "token"} state @param {string} text */
function live(state, text) {
  const e = byId("live");
  e.dataset.live = state;
  e.textContent = text;
}

/** Shows the token form; `again` runs once a token is given. @param {() => void} again */
function askToken(again) {
  waitingForToken.push(again);
  byId("token-why").textContent = sessionStorage.getItem(TOKEN_KEY)
    ? "The admin API refused this token: enter admin.token again."
    : "This admin API needs its token (admin.token).";
  const form = byId("token");
  form.hidden = false;
  byId("token-input").focus();
}

function useToken(/** @type {SubmitEvent} */ event) {
  event.preventDefault();
  const input = /** @type {HTMLInputElement} */ (byId("token-input"));
  sessionStorage.setItem(TOKEN_KEY, input.value.trim());
  input.value = "";
  byId("token").hidden = true;
  const again = waitingForToken;
  waitingForToken = [];
  for (const fn of again) fn();
}

// ---- the stream ----

async function follow() {
  live("connecting", "connecting…");
  /** @type {Response} */
  let res;
  try {
    res = await fetch("/status/stream", { headers: { accept: "text/event-stream", ...auth() } });
  } catch {
    return reconnect();
  }
  if (res.status === 401) {
    live("token", "needs the admin token");
    return askToken(() => void follow());
  }
  if (!res.ok || !res.body) {
    say(`/status/stream answered ${res.status}: ${await res.text()}`, "error");
    return reconnect();
  }
  live("live", "live");
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      buffer += value;
      let end;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const data = buffer
          .slice(0, end)
          .split("\n")
          .filter((line) => line.startsWith("data:"))
          .map((line) => line.slice(5).trimStart())
          .join("\n");
        buffer = buffer.slice(end + 2);
        if (data) render(/** @type {StatusDocument} */ (json(data)));
      }
    }
  } catch {
    // the connection dropped (the daemon restarted, the network): follow again
  }
  reconnect();
}

function reconnect() {
  live("disconnected", "disconnected, reconnecting…");
  setTimeout(() => void follow(), RECONNECT_MS);
}

// ---- drawing ----

/** @param {StatusDocument} doc */
function render(doc) {
  if ("error" in doc) {
    live("disconnected", "status unavailable");
    say(doc.error.error, "error");
    return;
  }
  live("live", `live · ${new Date(doc.at).toLocaleTimeString()}`);
  const main = byId("connectors");
  const names = new Set(doc.connectors.map((c) => c.name));
  for (const [name, card] of cards) {
    if (names.has(name)) continue;
    card.root.remove();
    cards.delete(name);
  }
  for (const c of doc.connectors) {
    let card = cards.get(c.name);
    if (!card) {
      card = newCard(c);
      cards.set(c.name, card);
      main.append(card.root);
    }
    card.spark.push(c.rowsPerSecond);
    if (card.spark.length > SPARK_POINTS) card.spark.shift();
    update(card, c);
  }
  if (doc.connectors.length === 0) main.replaceChildren(h("p", { class: "muted" }, "No connectors run here."));
}

/** A connector's card; its actions are made once, so a table name being typed survives the updates. @param {Connector} c @returns {Card} */
function newCard(c) {
  const state = h("span", { class: "state" });
  const meta = h("span", { class: "meta" });
  const facts = h("div", { class: "facts" });
  const actions = h("div", { class: "actions" });
  for (const action of ["pause", "resume", "restart"]) {
    const button = h("button", { type: "button", "data-action": action }, action.charAt(0).toUpperCase() + action.slice(1));
    button.addEventListener("click", () => void act(c.name, action));
    actions.append(button);
  }
  if (c.kind === "source") {
    const input = /** @type {HTMLInputElement} */ (h("input", { name: "table", placeholder: "db.table", required: "", "aria-label": "table to snapshot" }));
    const form = h("form", { class: "snapshot-form" }, input, h("button", { type: "submit" }, "Snapshot table"));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      void act(c.name, "snapshot", { tables: [input.value.trim()] });
    });
    actions.append(form);
  }
  const root = h("section", { class: "connector", "data-connector": c.name }, h("header", {}, h("h2", {}, c.name), state, meta), facts, actions);
  return { root, state, meta, facts, spark: [] };
}

/** @param {Card} card @param {Connector} c */
function update(card, c) {
  showState(card, c.state);
  card.meta.textContent = [`${c.type} ${c.kind}`, `${count(c.records)} records`, c.worker ? `on ${c.worker}` : ""].filter(Boolean).join(" · ");
  const parts = [h("div", { class: "throughput" }, sparkline(card.spark), h("span", {}, `${count(c.rowsPerSecond)} rows/s`))];
  const tables = Object.entries(c.snapshot ?? {});
  if (tables.length > 0) parts.push(h("table", { class: "snapshot" }, ...tables.map(([name, t]) => tableRow(name, t, c.state))));
  const lag = lagText(c);
  if (lag) parts.push(h("p", { class: "lag" }, lag));
  if (c.lastError) {
    const retry = c.retry?.nextAttemptAt ? `; attempt ${c.retry.attempt}, next ${ago(c.retry.nextAttemptAt)}` : "";
    parts.push(h("p", { class: "error" }, h("b", {}, c.lastError.code), ` (${c.lastError.category}, ${ago(c.lastError.at)}${retry}): ${c.lastError.message}`));
  } else if (c.lastRecovery) {
    parts.push(h("p", { class: "recovered" }, `recovered ${ago(c.lastRecovery.recoveredAt)} from ${c.lastRecovery.code}: ${c.lastRecovery.message}`));
  }
  if (c.schemas.length > 0) parts.push(schemaList(c.schemas.slice(0, SCHEMAS_SHOWN)));
  card.facts.replaceChildren(...parts);
}

/** @param {Card} card @param {string} state */
function showState(card, state) {
  card.root.dataset.state = state;
  card.state.textContent = state;
  for (const button of card.root.querySelectorAll("button[data-action]")) {
    if (!(button instanceof HTMLButtonElement)) continue;
    if (button.dataset.action === "pause") button.disabled = state === "paused";
    if (button.dataset.action === "resume") button.disabled = state !== "paused";
  }
}

/** @param {string} name @param {TableProgress} t @param {string} state the connector's */
function tableRow(name, t, state) {
  const fraction = t.estimated > 0 ? Math.min(1, t.done / t.estimated) : t.finishedAt ? 1 : 0;
  const bar = h("progress", { max: String(Math.max(t.estimated, t.done, 1)), value: String(t.done) });
  // a paused copy's rate still remembers the pace before the pause: no ETA from it
  const eta = t.finishedAt ? "done" : state === "paused" ? "paused" : t.etaSeconds === null ? "ETA …" : `ETA ${duration(t.etaSeconds)}`;
  return h(
    "tr",
    { "data-table": name },
    h("th", {}, name),
    h("td", {}, bar),
    h("td", { class: "pct" }, `${Math.floor(fraction * 100)}%`),
    h("td", {}, `${count(t.done)} / ${count(t.estimated)}`),
    h("td", {}, t.rowsPerSecond === null || t.finishedAt || state === "paused" ? "" : `${count(t.rowsPerSecond)} rows/s`),
    h("td", { class: "eta" }, eta),
    h("td", { class: "kind muted" }, `${t.kind} snapshot`),
  );
}

/** @param {Connector} c */
function lagText(c) {
  if (c.stream) {
    const parts = [`behind ${c.stream.secondsBehind === null ? "?" : duration(c.stream.secondsBehind)}`];
    if (c.stream.bytesBehind !== null) parts.push(bytes(c.stream.bytesBehind));
    if (c.stream.lastEventAt) parts.push(`last event ${ago(c.stream.lastEventAt)}`);
    return parts.join(", ");
  }
  if (c.lag?.partitions) {
    const total = c.lag.partitions.reduce((n, p) => n + p.lag, 0);
    return `lag ${count(total)} records: ${c.lag.partitions.map((p) => `${p.topic}[${p.partition}] ${count(p.lag)}`).join(", ")}`;
  }
  if (c.lag?.seconds !== undefined) return `behind ${duration(c.lag.seconds)}`;
  return "";
}

/** The schema versions it uses, newest first; a new id for a subject already seen is a schema change. @param {SchemaSeen[]} schemas */
function schemaList(schemas) {
  return h(
    "ul",
    { class: "schemas" },
    ...schemas.map((s) =>
      s.previousId === null
        ? h("li", {}, `${s.subject}: schema ${s.id}`)
        : h("li", { class: "change" }, `${s.subject}: schema changed ${s.previousId} → ${s.id}${s.registered ? " (registered here)" : ""}, ${ago(s.at)}`),
    ),
  );
}

/** Until it has SPARK_POINTS, the line spans the points it has. @param {number[]} points */
function sparkline(points) {
  const height = 24;
  const max = Math.max(1, ...points);
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("class", "spark");
  svg.setAttribute("viewBox", `0 0 ${Math.max(1, points.length - 1)} ${height}`);
  svg.setAttribute("preserveAspectRatio", "none");
  svg.setAttribute("aria-label", `rows per second, last ${points.length} updates, peak ${count(max)}`);
  const line = document.createElementNS(SVG, "polyline");
  line.setAttribute("points", points.map((v, i) => `${i},${(height - 1 - (v / max) * (height - 2)).toFixed(1)}`).join(" "));
  svg.append(line);
  return svg;
}

// ---- actions ----

/** @param {string} name @param {string} action @param {Record<string, unknown>} [body] */
async function act(name, action, body) {
  /** @type {Response} */
  let res;
  try {
    res = await fetch(`/connectors/${encodeURIComponent(name)}/${action}`, {
      method: "POST",
      headers: { ...auth(), ...(body ? { "content-type": "application/json" } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
  } catch (err) {
    return say(`${action} ${name}: the daemon did not answer (${String(err)})`, "error");
  }
  if (res.status === 401) return askToken(() => void act(name, action, body));
  const text = await res.text();
  const answer = /** @type {{ error?: string, message?: string, state?: string, result?: { queued?: string[] } }} */ (text ? json(text) : {});
  if (!res.ok) return say(`${action} ${name} refused (${res.status}): ${answer.error ?? answer.message ?? res.statusText}`, "error");
  const card = cards.get(name);
  // the stream follows within a second; the answer already says the new state
  if (answer.state && card) showState(card, answer.state);
  say(action === "snapshot" ? `${name}: snapshot of ${(answer.result?.queued ?? []).join(", ") || "the table"} accepted` : `${name}: ${action} done, now ${answer.state ?? "?"}`);
}

// ---- figures ----

/** @param {number} n */
function count(n) {
  return Math.round(n).toLocaleString("en-US");
}

/** 12s, 1m05s, 1h02m, as `liberator status` shows them. @param {number} seconds */
function duration(seconds) {
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}

/** @param {number} n */
function bytes(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(1)} GiB`;
}

/** "5s ago", or "in 5s" for a time to come. @param {string} iso */
function ago(iso) {
  const s = (Date.now() - Date.parse(iso)) / 1000;
  return s >= 0 ? `${duration(s)} ago` : `in ${duration(-s)}`;
}

byId("token").addEventListener("submit", useToken);
void follow();
