/**
 * What every benchmark needs of the process it measures: `liberator run` (or any child) spawned,
 * its CPU (user + system) and peak RSS read from /proc, the connector's status from the admin API,
 * the load average, and the scale factor for quick runs on a busy machine.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { copyFileSync, cpSync, existsSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { stringify } from "yaml";
import { repoRoot } from "../test/harness/paths.js";
import type { HarnessInfo } from "../test/harness/start.js";
import { childNodeArgs } from "./node-args.js";
import { cpuSecondsOf, memoryOf } from "./proc.js";

/**
 * BENCH_SCALE (default 1) multiplies every row count of a benchmark, so it can be built and
 * checked at a tenth of its size while other work loads the machine: `BENCH_SCALE=0.1`.
 */
export function scaled(n: number, multipleOf = 1): number {
  const factor = Number(process.env.BENCH_SCALE ?? 1);
  if (!(factor > 0)) throw new Error(`BENCH_SCALE must be a positive number, not ${process.env.BENCH_SCALE}`);
  return Math.max(multipleOf, Math.round((n * factor) / multipleOf) * multipleOf);
}

/** The 1, 5 and 15-minute load averages, as /proc/loadavg gives them. */
export function loadAverage(): string {
  return readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
}

/** A measured child process: its peak RSS is sampled while it lives (VmHWM vanishes with it). */
export interface Measured {
  child: ChildProcess;
  peakMb(): number;
  cpuSeconds(): number;
  /** Ends with a stderr tail when the process exits with an error. */
  stderr(): string;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

export function measure(child: ChildProcess): Measured {
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  let peakKb = 0;
  let cpu = 0;
  const sample = () => {
    peakKb = Math.max(peakKb, memoryOf(child.pid!).peakKb);
    try {
      cpu = cpuSecondsOf(child.pid!);
    } catch {
      // gone: the last sample stands
    }
  };
  const timer = setInterval(sample, 200);
  const exited = new Promise<void>((resolve) =>
    child.once("exit", () => {
      clearInterval(timer);
      resolve();
    }),
  );
  return {
    child,
    peakMb: () => (sample(), peakKb / 1024),
    cpuSeconds: () => (sample(), cpu),
    stderr: () => stderr,
    stop: async (signal = "SIGTERM") => {
      sample();
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}

let built: string | undefined;

/** Compiles src/ the way the Dockerfile does, once per run, into a folder of its own under .cache (git-ignored); returns dist/cli.js. */
export function buildLiberator(): string {
  return (built ??= compile(repoRoot));
}

/**
 * Another commit's build, for two builds side by side: a detached worktree of `ref` under
 * .cache/bench-ab (kept for the next run; its node_modules are this checkout's), compiled as
 * buildLiberator compiles; returns its dist/cli.js.
 */
export function buildCommit(ref: string): { cli: string; commit: string } {
  const commit = execFileSync("git", ["rev-parse", "--verify", `${ref}^{commit}`], { cwd: repoRoot, encoding: "utf8" }).trim();
  const tree = join(repoRoot, ".cache", "bench-ab", commit);
  if (!existsSync(tree)) {
    execFileSync("git", ["worktree", "add", "--detach", tree, commit], { cwd: repoRoot, stdio: "ignore" });
    symlinkSync(join(repoRoot, "node_modules"), join(tree, "node_modules"));
  }
  return { cli: compile(tree), commit };
}

function compile(root: string): string {
  const out = join(root, ".cache", "bench-build");
  execFileSync(process.execPath, [join(repoRoot, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.build.json", "--outDir", join(out, "dist")], { cwd: root, stdio: "inherit" });
  // cli.js reads ../package.json, and Node takes "type": "module" from it
  copyFileSync(join(root, "package.json"), join(out, "package.json"));
  // the admin API serves the status page from ../web/status, as the Dockerfile lays it out
  cpSync(join(root, "web", "status"), join(out, "web", "status"), { recursive: true });
  return join(out, "dist", "cli.js");
}

export interface Daemon extends Measured {
  admin: string;
}

/**
 * `liberator run -c file` with the Node flags users get (plus LIBERATOR_BENCH_NODE_ARGS); through
 * tsx unless `cli` names a compiled dist/cli.js. `onLogLine` gets each line it logs (else dropped).
 */
export function startLiberator(file: string, adminPort: number, cli?: string, onLogLine?: (line: string) => void): Daemon {
  const entry = cli ? [cli] : ["--import", "tsx", join(repoRoot, "src/cli.ts")];
  const child = spawn(process.execPath, [...childNodeArgs(), ...entry, "run", "-c", file], { cwd: repoRoot, stdio: ["ignore", onLogLine ? "pipe" : "ignore", "pipe"] });
  if (onLogLine) createInterface({ input: child.stdout! }).on("line", onLogLine);
  const measured = measure(child);
  child.once("exit", (code) => {
    if (code !== 0 && code !== null) process.stderr.write(`liberator exited with ${code}: ${measured.stderr()}\n`);
  });
  return { ...measured, admin: `http://127.0.0.1:${adminPort}` };
}

/**
 * Writes the connectors.yaml of one worker of a cluster on the harness's broker and Redis: its
 * admin API open on `port` (the bench pauses, resumes and reads the connectors through it).
 */
export function writeWorkerConfig(
  file: string,
  info: HarnessInfo,
  worker: { registryTopic: string; port: number; queuePrefix: string; workerId: string; logLevel: string; connectors: unknown[] },
): void {
  if (!info.redis) throw new Error("a cluster of workers needs the harness's Redis");
  writeFileSync(
    file,
    stringify({
      kafka: { brokers: info.kafka.brokers, topics: { replicationFactor: 1 } },
      schemaRegistry: { topic: worker.registryTopic },
      admin: { host: "127.0.0.1", port: worker.port, auth: "none" },
      log: { level: worker.logLevel },
      cluster: { redis: info.redis.url, queuePrefix: worker.queuePrefix, workerId: worker.workerId },
      connectors: worker.connectors,
    }),
  );
}

export interface Status {
  state: string;
  records: number;
  details?: { phase?: string };
}

export async function connectorStatus(d: Daemon, name: string): Promise<Status | undefined> {
  const res = await fetch(`${d.admin}/connectors/${name}`).catch(() => undefined);
  return res?.ok ? ((await res.json()) as Status) : undefined;
}

export interface Timed {
  /** ms since the epoch: when the connector was first seen running, and when `done` held. */
  started: number;
  ended: number;
  /** CPU seconds of the process between the two. */
  cpu: number;
  /** Load average when `done` held. */
  load: string;
}

/** Polls the connector every 20 ms until `done`; the clock and the CPU count from its first "running". */
export async function timeUntil(d: Daemon, name: string, done: (s: Status) => boolean, timeoutMs = 900_000): Promise<Timed> {
  let started = 0;
  let cpu = 0;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (d.child.exitCode !== null) throw new Error(`liberator exited: ${d.stderr()}`);
    const s = await connectorStatus(d, name);
    if (s && !started && s.state === "running") {
      started = Date.now();
      cpu = d.cpuSeconds();
    }
    if (s && started && done(s)) return { started, ended: Date.now(), cpu: d.cpuSeconds() - cpu, load: loadAverage() };
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${name}: ${JSON.stringify(s)}`);
    await sleep(20);
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The q-quantile of an ascending list (nearest rank). */
export function quantile(sorted: ArrayLike<number>, q: number): number {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

/** Rounds for the JSON line: 1 decimal below 100, whole numbers above. */
export function round(n: number): number {
  return Math.abs(n) >= 100 ? Math.round(n) : Math.round(n * 10) / 10;
}

/** ours / reference, to three decimals, for the JSON line. */
export function ratio(ours: number, reference: number): number {
  return Math.round((ours / reference) * 1000) / 1000;
}
