/**
 * The shape every benchmark returns, and how the runner prints it. A benchmark is a module
 * `bench/NAME.ts` exporting `run(context): Promise<BenchResult>`; `npm run bench -- NAME` runs it.
 *
 * - `figures`: the human table, one row per measured figure, each beside its reference when it
 *   has one (the runner prints the ratio).
 * - `fields`: exactly the fields BENCHMARKS.md names for NAME; the runner prints them as the one
 *   JSON object of the last line, for scripts and CI.
 * - `notes`: how it was measured (what ran, on what), printed under the table.
 */
import type { HarnessInfo } from "../test/harness/start.js";

export interface Figure {
  name: string;
  value: number;
  unit: string;
  reference?: { value: number; label: string };
}

/** A field of the JSON line: a figure, or an object of figures (per phase, per target). */
export type Field = number | { [key: string]: Field };

export interface BenchResult {
  figures: Figure[];
  fields: Record<string, Field>;
  notes?: string[];
}

export interface BenchContext {
  /** The test harness servers: the dev servers when they are up, else started now and stopped after the run; the broker warmed up first (warm-up.ts). */
  servers(): Promise<HarnessInfo>;
}

const number = (n: number) => (Math.abs(n) >= 100 ? Math.round(n).toLocaleString("en-US") : n.toPrecision(3));

export function formatReport(name: string, result: BenchResult): string {
  const rows = result.figures.map((f) => [
    f.name,
    `${number(f.value)} ${f.unit}`,
    f.reference ? `${number(f.reference.value)} ${f.unit} (${f.reference.label})` : "",
    f.reference ? (f.value / f.reference.value).toFixed(2) : "",
  ]);
  const header = ["figure", "ours", "reference", "ratio"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join("  ").trimEnd();
  return [`benchmark ${name}`, line(header), ...rows.map(line), ...(result.notes ?? []).map((n) => `  ${n}`), JSON.stringify(result.fields)].join("\n");
}
