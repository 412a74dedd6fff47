/**
 * The `liberator status` table, as text: one block per connector, a bar with its ETA per table a
 * snapshot copies, the lag for the rest. Plain characters only; the command decides how it reaches
 * the terminal (redrawn in place, or printed).
 */
import type { ConnectorView, StatusDocument } from "../runtime/control.js";
import type { SnapshotTableProgress } from "../runtime/progress.js";

const BAR_WIDTH = 24;

export interface RenderOptions {
  /** Unicode blocks for a terminal; `#` and `.` otherwise, so logs and pipes get ASCII. */
  unicode: boolean;
  now?: number;
}

export function renderStatus(doc: StatusDocument, options: RenderOptions): string {
  const now = options.now ?? Date.now();
  const lines = [`liberator status at ${doc.at}: ${doc.connectors.length} connector(s)`];
  for (const c of doc.connectors) lines.push("", ...connectorLines(c, options.unicode, now));
  return `${lines.join("\n")}\n`;
}

function connectorLines(c: ConnectorView, unicode: boolean, now: number): string[] {
  // one block per task of a connector that runs as several, with the partitions or tables it holds
  const name = c.task.count === 1 ? c.name : `${c.name} task ${c.task.index}${c.task.count > 0 ? `/${c.task.count}` : ""}`;
  const head = [name, `${c.type} ${c.kind}`, c.state.toUpperCase(), `${count(c.records)} records`, `${count(c.rowsPerSecond)} rows/s`];
  if (c.worker) head.push(`on ${c.worker}`);
  const lines = [head.join("  ")];
  for (const part of ["partitions", "tables"]) {
    const held = c.details[part];
    if (c.task.count !== 1 && Array.isArray(held)) lines.push(`  ${part}: ${held.length > 0 ? held.map(String).join(", ") : "none"}`);
  }
  const tables = Object.entries(c.snapshot ?? {});
  const width = Math.max(0, ...tables.map(([name]) => name.length));
  for (const [name, t] of tables) lines.push(`  ${name.padEnd(width)}  ${tableLine(t, unicode)}`);
  const lag = lagLine(c, now);
  if (lag) lines.push(`  ${lag}`);
  if (c.lastError) lines.push(`  error ${ago(c.lastError.at, now)}: ${c.lastError.message}`);
  else if (c.lastRecovery) lines.push(`  recovered ${ago(c.lastRecovery.recoveredAt, now)} from: ${c.lastRecovery.message}`);
  return lines;
}

function tableLine(t: SnapshotTableProgress, unicode: boolean): string {
  const fraction = t.estimated > 0 ? Math.min(1, t.done / t.estimated) : t.finishedAt ? 1 : 0;
  const filled = Math.round(fraction * BAR_WIDTH);
  const [full, empty] = unicode ? ["█", "░"] : ["#", "."];
  const bar = `[${full.repeat(filled)}${empty.repeat(BAR_WIDTH - filled)}]`;
  const pct = `${Math.floor(fraction * 100)}%`.padStart(4);
  const rows = `${count(t.done)}/${count(t.estimated)}`;
  if (t.finishedAt) return `${bar} ${pct}  ${rows}  ${t.kind} snapshot done`;
  const rate = t.rowsPerSecond === null ? "" : `  ${count(t.rowsPerSecond)} rows/s`;
  const eta = t.etaSeconds === null ? "ETA --" : `ETA ${duration(t.etaSeconds)}`;
  return `${bar} ${pct}  ${rows}${rate}  ${eta}`;
}

function lagLine(c: ConnectorView, now: number): string | undefined {
  if (c.stream) {
    const parts = [`behind ${c.stream.secondsBehind === null ? "?" : duration(c.stream.secondsBehind)}`];
    if (c.stream.bytesBehind !== null) parts.push(bytes(c.stream.bytesBehind));
    if (c.stream.retainedBytes !== null) parts.push(`${bytes(c.stream.retainedBytes)} of log retained`);
    if (c.stream.lastEventAt) parts.push(`last event ${ago(c.stream.lastEventAt, now)}`);
    return parts.join(", ");
  }
  if (c.lag?.partitions) {
    const total = c.lag.partitions.reduce((n, p) => n + p.lag, 0);
    const each = c.lag.partitions.map((p) => `${p.topic}[${p.partition}] ${count(p.lag)}`).join(", ");
    return `lag ${count(total)} records: ${each}`;
  }
  if (c.lag?.seconds !== undefined) return `behind ${duration(c.lag.seconds)}`;
  return undefined;
}

function count(n: number): string {
  return Math.round(n).toLocaleString("en-US");
}

export function duration(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}

function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(1)} GiB`;
}

function ago(iso: string, now: number): string {
  return `${duration(Math.max(0, (now - Date.parse(iso)) / 1000))} ago`;
}
