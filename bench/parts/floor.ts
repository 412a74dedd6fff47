/**
 * The memory a phase cannot go below with the parts Liberator is built on: each part alone in a
 * process of its own (parts/child.ts), compiled as Liberator is run (tsx's loader alone adds about
 * 30 MB), with its peak RSS (VmHWM), as Liberator's and Debezium's are measured. A pipeline holds
 * its parts in one process at once, so the larger part's peak is a floor for it, not their sum.
 */
import { execFileSync, spawn } from "node:child_process";
import { join } from "node:path";
import { createInterface } from "node:readline";
import type { HarnessInfo } from "../../test/harness/start.js";
import { repoRoot } from "../../test/harness/paths.js";
import type { RecordShape } from "./bare-producer.js";

/** What parts/child.ts runs: one part, on the same rows as the phase it stands beside. */
export type PartRun =
  | { part: "zongji"; server: HarnessInfo["mariadb"]; start: { file: string; pos: number }; database: string; table: string; rows: number }
  | { part: "producer"; brokers: string[]; shape: RecordShape }
  | { part: "select"; server: HarnessInfo["mariadb"]; database: string; table: string; chunk: number; rows: number };

let compiled: string | undefined;

/** parts/child.ts and what it imports, compiled once per run under .cache (git-ignored). */
function childScript(): string {
  if (compiled) return compiled;
  const out = join(repoRoot, ".cache", "bench-parts");
  const options = ["--ignoreConfig", "--outDir", out, "--rootDir", repoRoot, "--target", "ES2022", "--module", "NodeNext", "--moduleResolution", "NodeNext", "--types", "node", "--esModuleInterop", "--skipLibCheck"];
  execFileSync(process.execPath, [join(repoRoot, "node_modules/typescript/bin/tsc"), ...options, join(repoRoot, "bench/parts/child.ts")], { cwd: repoRoot, stdio: "inherit" });
  return (compiled = join(out, "bench", "parts", "child.js"));
}

/** The peak RSS of one part run alone, MB. */
export async function partPeakMb(run: PartRun): Promise<number> {
  const child = spawn(process.execPath, [childScript(), JSON.stringify(run)], { cwd: repoRoot, stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  let peakMb: number | undefined;
  createInterface({ input: child.stdout }).on("line", (line) => {
    if (line.startsWith("{")) peakMb = (JSON.parse(line) as { peakMb: number }).peakMb;
  });
  const code = await new Promise<number | null>((resolve) => child.once("close", resolve));
  if (code !== 0 || peakMb === undefined) throw new Error(`${run.part} alone exited with ${code}: ${stderr}`);
  return peakMb;
}
