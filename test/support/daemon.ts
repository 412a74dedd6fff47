/**
 * Runs the real `liberator` command in a child process, as a user would, for tests that kill,
 * signal or restart it. The config gets the harness's Kafka and a free admin port unless given.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { stringify } from "yaml";
import { afterAll } from "vitest";
import { freePort, waitFor } from "../harness/index.js";
import { harness } from "../harness/env.js";
import { repoRoot } from "../harness/paths.js";

export interface DaemonOptions {
  /** The `connectors:` list of the config. */
  connectors: unknown[];
  /** Other top-level config blocks (schemaRegistry, cluster, shutdown…); kafka (the harness's broker) and admin are filled in when absent. */
  root?: Record<string, unknown>;
  env?: Record<string, string>;
  /** Extra CLI arguments after `run -c <file>`. */
  args?: string[];
}

export interface ConnectorStatusView {
  name: string;
  state: string;
  position: unknown;
  records: number;
  lastError: { code: string; message: string } | null;
  [key: string]: unknown;
}

export interface Daemon {
  child: ChildProcess;
  configFile: string;
  adminUrl: string;
  /** Everything it printed so far (pino JSON lines). */
  output(): string;
  statuses(): Promise<ConnectorStatusView[]>;
  status(name: string): Promise<ConnectorStatusView | undefined>;
  /** Until every connector is running. */
  waitReady(timeoutMs?: number): Promise<void>;
  /** Sends the signal and waits for the exit; resolves with how it ended and how long it took. */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }>;
  /** SIGKILL, no cleanup at all: a crash. */
  kill(): Promise<void>;
  /** A new process on the same config file (after stop or kill). */
  restart(): Promise<Daemon>;
}

export async function startDaemon(options: DaemonOptions): Promise<Daemon> {
  const dir = mkdtempSync(join(tmpdir(), "liberator-daemon-"));
  const configFile = join(dir, "connectors.yaml");
  const port = await freePort();
  const config = {
    // a test with brokers of its own (the fault suite's, behind a proxy) needs no harness
    // tests kill daemons mid-transaction while others read the shared `_liberator_offsets` topic;
    // a short transaction timeout ends such a transaction well within readers' 30 s, as the next
    // start of its connector would
    ...(options.root?.kafka ? {} : { kafka: { brokers: harness().kafka.brokers, topics: { replicationFactor: 1 }, transactionTimeoutMs: 15_000 } }),
    log: { level: process.env.DAEMON_LOG_LEVEL ?? "info" },
    ...options.root,
    // an admin block of the test's (a token, the default auth) keeps the free port; without one, tests
    // drive the daemon (pause, offsets, snapshot) with auth none, as the docs tell a local set-up to
    admin: { host: "127.0.0.1", port, ...((options.root?.admin as Record<string, unknown> | undefined) ?? { auth: "none" }) },
    connectors: options.connectors,
  };
  writeFileSync(configFile, stringify(config));
  return spawnDaemon(configFile, `http://127.0.0.1:${port}`, options);
}

/*
 * A test that fails or times out before its own clean-up leaves its daemons running, each still
 * polling the broker and the databases; on a loaded machine they slowed the next files until those
 * timed out too. The test file's last hook kills whatever it started (a SIGSTOPped one included).
 */
const running = new Set<ChildProcess>();
afterAll(() => {
  for (const child of running) child.kill("SIGKILL");
});

async function spawnDaemon(configFile: string, adminUrl: string, options: DaemonOptions): Promise<Daemon> {
  // --inspect-port=0: the inspector stays off until a SIGUSR1 (jsStacks below) and then takes a free port
  const child = spawn(process.execPath, ["--inspect-port=0", "--import", "tsx", join(repoRoot, "src/cli.ts"), "run", "-c", configFile, ...(options.args ?? [])], {
    cwd: repoRoot,
    env: { ...process.env, ...options.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  running.add(child);
  child.once("exit", () => running.delete(child));
  let out = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr.on("data", (d: Buffer) => (out += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal })),
  );

  const token = (options.root?.admin as { token?: string } | undefined)?.token;
  const spawnedAt = Date.now();
  let stacks: Promise<string> | undefined;
  const statuses = async (): Promise<ConnectorStatusView[]> => {
    // a daemon that listens but does not answer fails the request too, rather than holding it for undici's 5 minutes
    const res = await fetch(`${adminUrl}/connectors`, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS), ...(token ? { headers: { authorization: `Bearer ${token}` } } : {}) }).catch(async (err: Error) => {
      // a test waiting on a process that is gone, or not listening, learns why rather than "fetch failed"
      const gone = child.exitCode ?? child.signalCode;
      if (gone !== null) throw new Error(`liberator exited (${gone}): ${err.message}; its output ends:\n${out.slice(-3000)}`);
      // a start takes a few seconds; a daemon alive and deaf long after is stuck, and where it is
      // stuck is asked once (not of one a test froze on purpose: its inspector would open at SIGCONT)
      if (!stacks && Date.now() - spawnedAt > STUCK_AFTER_MS && !processState(child.pid).includes("state T")) stacks = jsStacks(child, () => out);
      const where = stacks ? `; its JavaScript stacks:\n${await stacks}\n` : "";
      throw new Error(`liberator's admin API does not answer (the process ${processState(child.pid)}): ${err.message}${where}; its output ends:\n${out.slice(-3000)}`);
    });
    return (await res.json()) as ConnectorStatusView[];
  };
  const daemon: Daemon = {
    child,
    configFile,
    adminUrl,
    output: () => out,
    statuses,
    status: async (name) => (await statuses()).find((s) => s.name === name),
    waitReady: async (timeoutMs = 60_000) => {
      await waitFor(
        async () => {
          if (child.exitCode !== null) throw new Error(`liberator exited with ${child.exitCode}:\n${out.slice(-4000)}`);
          const res = await fetch(`${adminUrl}/readyz`).catch(() => undefined);
          return res?.status === 200;
        },
        { timeoutMs, message: "liberator to be ready" },
      ).catch((err: Error) => {
        throw new Error(`${err.message}\nliberator output:\n${out.slice(-4000)}`);
      });
    },
    stop: async (signal = "SIGTERM", timeoutMs = 30_000) => {
      const t0 = Date.now();
      child.kill(signal);
      const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
      const end = await exited;
      clearTimeout(timer);
      return { ...end, ms: Date.now() - t0 };
    },
    kill: async () => {
      child.kill("SIGKILL");
      await exited;
    },
    restart: () => spawnDaemon(configFile, adminUrl, options),
  };
  return daemon;
}

const STUCK_AFTER_MS = 30_000;
const REQUEST_TIMEOUT_MS = 10_000;

/**
 * Where a live daemon's JavaScript is, from its inspector (opened by SIGUSR1 on the port
 * --inspect-port=0 picked, which it prints): a daemon that spins in a promise loop never runs a
 * signal handler, so neither its log nor a report can say.
 */
async function jsStacks(child: ChildProcess, output: () => string): Promise<string> {
  const listening = () => /Debugger listening on (ws:\/\/\S+)/.exec(output())?.[1];
  child.kill("SIGUSR1");
  const deadline = Date.now() + 5_000;
  while (!listening() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  const url = listening();
  if (!url) return "(its inspector did not open within 5 s)";
  try {
    const script = join(repoRoot, "test/support/js-stack.ts");
    const { stdout } = await promisify(execFile)(process.execPath, ["--experimental-websocket", "--no-warnings", "--import", "tsx", script, url], { cwd: repoRoot, timeout: 30_000 });
    return stdout.trim();
  } catch (err) {
    return `(the inspector client failed: ${(err as Error).message})`;
  }
}

/**
 * What the kernel says a live process is doing: its state (T: stopped by a signal) and where it
 * waits (wchan), for a daemon that neither answers nor exits.
 */
function processState(pid: number | undefined): string {
  try {
    const state = /State:\s+(.*)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? "?";
    const wchan = readFileSync(`/proc/${pid}/wchan`, "utf8") || "-";
    return `${pid}: state ${state}, waiting in ${wchan}`;
  } catch {
    return `${pid}: not in /proc`;
  }
}

/** Until connector `name` is in `state`; the status that shows it (not a later look, which may have moved on). */
export function untilState(daemon: Pick<Daemon, "status">, name: string, state: string, timeoutMs: number, message: string): Promise<ConnectorStatusView> {
  return waitFor(
    async () => {
      const s = await daemon.status(name);
      return s?.state === state ? s : undefined;
    },
    { timeoutMs, message },
  );
}

/** Until connector `name` has failed (a final error: it does not retry); its status then. */
export function untilFailed(daemon: Pick<Daemon, "status">, name: string, timeoutMs: number, message = `${name} to fail`): Promise<ConnectorStatusView> {
  return untilState(daemon, name, "failed", timeoutMs, message);
}

/** The pino lines a daemon printed, parsed. */
export function logLines(daemon: Pick<Daemon, "output">): { time: string; msg: string; connector?: string; reason?: string; [k: string]: unknown }[] {
  return daemon
    .output()
    .split("\n")
    .flatMap((line) => {
      try {
        return [JSON.parse(line) as { time: string; msg: string }];
      } catch {
        return [];
      }
    });
}
