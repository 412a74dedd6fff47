/**
 * Prints the JavaScript stacks of a Node process that does not answer, through its inspector:
 * `node --experimental-websocket --import tsx test/support/js-stack.ts <ws-url>`. A process that
 * spins in JavaScript (a promise loop that never yields) answers no signal handler and Node 20's
 * `--report-on-signal` waits for its loop, but the inspector interrupts the thread. daemon.ts runs
 * this when a daemon it started stays busy without listening. Three pauses a little apart show
 * whether it is stuck in one place.
 */

interface Frame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber?: number;
  location?: { scriptId: string; lineNumber: number; columnNumber: number };
}
interface AsyncTrace {
  description?: string;
  callFrames: Frame[];
  parent?: AsyncTrace;
}
interface Message {
  id?: number;
  method?: string;
  params?: { scriptId?: string; url?: string; reason?: string; callFrames?: Frame[]; asyncStackTrace?: AsyncTrace };
}
// Node 20 has WebSocket only behind --experimental-websocket, and @types/node 20 does not declare it
declare const WebSocket: new (url: string) => {
  onopen: () => void;
  onmessage: (m: { data: string }) => void;
  onerror: (e: unknown) => void;
  send(data: string): void;
};

const PAUSES = 3;
const url = process.argv[2];
if (!url) throw new Error("usage: js-stack.ts <inspector ws url>");
const ws = new WebSocket(url);
const scripts = new Map<string, string>();
let id = 0;
let pauses = 0;
const send = (method: string, params: Record<string, unknown> = {}) => ws.send(JSON.stringify({ id: ++id, method, params }));
const where = (f: Frame) => {
  const file = (f.location ? scripts.get(f.location.scriptId) : undefined) ?? f.url;
  const line = (f.location?.lineNumber ?? f.lineNumber) + 1;
  return `    at ${f.functionName || "<anonymous>"} (${file.replace(/^file:\/\//, "")}:${line}:${(f.location?.columnNumber ?? f.columnNumber ?? 0) + 1})`;
};

ws.onmessage = (m) => {
  const msg = JSON.parse(m.data) as Message;
  if (msg.method === "Debugger.scriptParsed" && msg.params?.scriptId) scripts.set(msg.params.scriptId, msg.params.url ?? "");
  if (msg.method !== "Debugger.paused") return;
  pauses++;
  const lines = [`pause ${pauses} of ${PAUSES}:`, ...(msg.params?.callFrames ?? []).slice(0, 30).map(where)];
  for (let a = msg.params?.asyncStackTrace, depth = 0; a && depth < 4; a = a.parent, depth++) {
    lines.push(`  (async ${a.description ?? ""})`, ...a.callFrames.slice(0, 8).map(where));
  }
  console.log(lines.join("\n"));
  send("Debugger.resume");
  if (pauses < PAUSES) setTimeout(() => send("Debugger.pause"), 300);
  else setTimeout(() => process.exit(0), 100);
};
ws.onopen = () => {
  send("Debugger.enable");
  send("Debugger.setAsyncCallStackDepth", { maxDepth: 8 });
  // scriptParsed events for the loaded scripts come right after enable; the names need them
  setTimeout(() => send("Debugger.pause"), 500);
};
ws.onerror = (e) => {
  console.log(`the inspector did not answer: ${String((e as { message?: string }).message ?? e)}`);
  process.exit(1);
};
setTimeout(() => {
  console.log(`the inspector gave ${pauses} of ${PAUSES} pauses in 15 s`);
  process.exit(1);
}, 15_000).unref();
