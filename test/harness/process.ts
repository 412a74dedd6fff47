import { execFile, spawn } from "node:child_process";
import fs from "node:fs";
import fsp from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { harnessCacheDir } from "./paths.js";

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface SpawnServerOptions {
  /** Shown in errors and logs: "kafka", "mariadb", … */
  name: string;
  command: string;
  args: string[];
  /** The server's own temporary folder: its cwd, removed when it stops. */
  dir: string;
  /** stdout and stderr are appended here; its tail is shown when the start fails. */
  logFile: string;
  env?: NodeJS.ProcessEnv;
  /** Run as this user (PostgreSQL refuses to run as root). */
  user?: { uid: number; gid: number };
  /** Signal that makes this server shut down quickly (PostgreSQL: SIGINT, a "fast" shutdown). */
  stopSignal?: NodeJS.Signals;
  /** After this long the stop escalates to SIGKILL. */
  stopTimeoutMs?: number;
}

export interface ServerProcess {
  readonly name: string;
  /**
   * Also the process group id: every server is started as the leader of its own group. A
   * relaunch gives it a new one.
   */
  readonly pid: number;
  readonly dir: string;
  readonly logFile: string;
  readonly stopSignal: NodeJS.Signals;
  /** The exit of the current launch. */
  readonly exited: Promise<ExitInfo>;
  hasExited(): boolean;
  /** Stops the whole process group (stop signal, then SIGKILL) and removes the folder. */
  stop(): Promise<void>;
  /**
   * Ends the process group with `signal` (SIGKILL: a crash; the default, the stop signal: a
   * clean shutdown, escalating to SIGKILL after the stop timeout) and keeps the folder, so
   * relaunch() starts the server again on the same data and port: a server restart, for fault tests.
   */
  halt(signal?: NodeJS.Signals): Promise<ExitInfo>;
  /** Starts the same command again in the same folder, after halt(). */
  relaunch(): void;
  /**
   * Lets the server outlive this process (dev servers from scripts/servers.ts): it is no longer
   * killed when this process exits, and its watchdog is ended.
   */
  release(): void;
}

interface Owned {
  pid: number;
  dir: string;
  watchdogPid: number | undefined;
}

/*
 * Servers this process must not leave behind. The "exit" handler kills them synchronously:
 * vitest answers SIGINT/SIGTERM with process.exit() and never runs the global teardown then.
 */
const owned = new Map<number, Owned>();
/** Temporary folders not removed yet, including those of servers still being prepared. */
const liveDirs = new Set<string>();
let exitHandlerInstalled = false;

function installExitHandler(): void {
  if (exitHandlerInstalled) return;
  exitHandlerInstalled = true;
  process.on("exit", () => {
    for (const server of owned.values()) {
      signalGroup(server.pid, "SIGKILL");
      if (server.watchdogPid !== undefined) signalGroup(server.watchdogPid, "SIGKILL");
    }
    owned.clear();
    for (const dir of liveDirs) {
      try {
        fs.rmSync(dir, { recursive: true, force: true });
      } catch {
        // a server's watchdog removes it a moment later
      }
    }
    liveDirs.clear();
  });
}

/** Sends a signal to a process group; false when the group no longer exists. */
export function signalGroup(pgid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ESRCH") return false;
    throw error;
  }
}

export function groupAlive(pgid: number): boolean {
  return signalGroup(pgid, 0);
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Stops a process group started earlier, possibly by another process (scripts/servers.ts stop):
 * the stop signal, then SIGKILL when it is still there after `timeoutMs`.
 */
export async function stopGroup(pgid: number, signal: NodeJS.Signals, timeoutMs: number): Promise<void> {
  if (!signalGroup(pgid, signal)) return;
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    await sleep(50);
    if (!groupAlive(pgid)) return;
  }
  signalGroup(pgid, "SIGKILL");
  while (groupAlive(pgid)) await sleep(20);
}

/*
 * A watchdog outlives a SIGKILL of this process, which no "exit" handler sees: it polls the
 * owner and, once the owner is gone, stops the server and removes its folder. `sh` and `sleep`
 * cost nothing next to the servers.
 */
const WATCHDOG = `
owner=$1; pgid=$2; sig=$3; dir=$4
while kill -0 "$owner" 2>/dev/null; do sleep 1; done
kill -"$sig" -"$pgid" 2>/dev/null
i=0
while kill -0 -"$pgid" 2>/dev/null && [ "$i" -lt 20 ]; do sleep 0.25; i=$((i+1)); done
kill -KILL -"$pgid" 2>/dev/null
rm -rf "$dir"
`;

function startWatchdog(pgid: number, signal: NodeJS.Signals, dir: string): number | undefined {
  const child = spawn("sh", ["-c", WATCHDOG, "liberator-harness-watchdog", String(process.pid), String(pgid), signal.replace(/^SIG/, ""), dir], {
    detached: true,
    stdio: "ignore",
  });
  child.unref();
  return child.pid;
}

/** Starts a long-running server as the leader of its own process group, logging to a file. */
export function spawnServer(options: SpawnServerOptions): ServerProcess {
  const stopSignal = options.stopSignal ?? "SIGTERM";
  const stopTimeoutMs = options.stopTimeoutMs ?? 5000;

  interface Launch {
    pid: number;
    exited: Promise<ExitInfo>;
    exitInfo?: ExitInfo;
    owned: Owned;
  }
  const launch = (): Launch => {
    const log = fs.openSync(options.logFile, "a");
    let child;
    try {
      child = spawn(options.command, options.args, {
        cwd: options.dir,
        env: options.env ?? process.env,
        // its own process group (and session): terminal Ctrl-C does not reach it half-way through
        // a test, and a stop reaches every process it forked (PostgreSQL backends)
        detached: true,
        stdio: ["ignore", log, log],
        ...(options.user ? { uid: options.user.uid, gid: options.user.gid } : {}),
      });
    } finally {
      fs.closeSync(log);
    }
    const pid = child.pid;
    if (pid === undefined) {
      throw new Error(`${options.name}: could not start ${options.command} (is it installed and on PATH?)`);
    }
    child.unref();
    installExitHandler();
    const current: Launch = {
      pid,
      exited: new Promise<ExitInfo>((resolve) => {
        child.once("exit", (code, signal) => resolve((current.exitInfo = { code, signal })));
        child.once("error", () => resolve((current.exitInfo = { code: null, signal: null })));
      }),
      owned: { pid, dir: options.dir, watchdogPid: startWatchdog(pid, stopSignal, options.dir) },
    };
    owned.set(pid, current.owned);
    return current;
  };
  let current = launch();

  const endWatchdog = () => {
    if (current.owned.watchdogPid !== undefined) signalGroup(current.owned.watchdogPid, "SIGKILL");
    current.owned.watchdogPid = undefined;
  };
  /** Ends the current launch's group; the folder stays. */
  const end = async (signal: NodeJS.Signals): Promise<ExitInfo> => {
    endWatchdog();
    if (current.exitInfo === undefined) await stopGroup(current.pid, signal, stopTimeoutMs);
    // the leader may be gone while a forked child still runs
    signalGroup(current.pid, "SIGKILL");
    const info = await current.exited;
    owned.delete(current.pid);
    return info;
  };

  let stopping: Promise<void> | undefined;
  return {
    name: options.name,
    get pid() {
      return current.pid;
    },
    dir: options.dir,
    logFile: options.logFile,
    stopSignal,
    get exited() {
      return current.exited;
    },
    hasExited: () => current.exitInfo !== undefined,
    stop() {
      stopping ??= (async () => {
        await end(stopSignal);
        await removeDir(options.dir);
      })();
      return stopping;
    },
    halt: (signal = stopSignal) => end(signal),
    relaunch() {
      if (stopping) throw new Error(`${options.name}: stopped, its folder is gone: nothing to relaunch`);
      if (current.exitInfo === undefined) throw new Error(`${options.name}: still running (pid ${current.pid}): halt() it first`);
      current = launch();
    },
    release() {
      endWatchdog();
      owned.delete(current.pid);
      liveDirs.delete(options.dir);
    },
  };
}

/** The last lines of a log file, for error messages. */
export function tail(file: string, lines = 40): string {
  try {
    const text = fs.readFileSync(file, "utf8");
    return text.split("\n").slice(-lines - 1).join("\n").trimEnd();
  } catch {
    return "(no log)";
  }
}

export class StartError extends Error {
  constructor(
    message: string,
    /** True when the failure looks like a port taken between probing and binding. */
    readonly portClash = false,
  ) {
    super(message);
    this.name = "StartError";
  }
}

const PORT_CLASH = /address already in use|EADDRINUSE|Do you already have another .* running|bind on TCP\/IP port/i;

/**
 * Waits until `ready()` resolves true, failing early when the process exits, and with the log's
 * tail when it does not get ready in time.
 */
export async function waitUntilReady(
  server: ServerProcess,
  ready: () => Promise<boolean>,
  options: { timeoutMs: number; intervalMs?: number },
): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (server.hasExited()) {
      const info = await server.exited;
      const logTail = tail(server.logFile);
      throw new StartError(
        `${server.name} exited during start-up (code ${info.code}, signal ${info.signal}); log kept in ${keepLog(server)}:\n${logTail}`,
        PORT_CLASH.test(logTail),
      );
    }
    try {
      if (await ready()) return;
    } catch (error) {
      lastError = error;
    }
    await sleep(options.intervalMs ?? 100);
  }
  const logTail = tail(server.logFile);
  throw new StartError(
    `${server.name} was not ready after ${options.timeoutMs} ms` +
      (lastError ? ` (last error: ${String((lastError as Error).message ?? lastError)})` : "") +
      `; log kept in ${keepLog(server)}:\n${logTail}`,
    PORT_CLASH.test(logTail),
  );
}

/** What a started server offers to restart it in place: the fault tests' server restarts. */
export interface Restartable {
  /**
   * Ends the server (its stop signal by default: a clean shutdown; SIGKILL: a crash) and keeps
   * its data, its port and its folder.
   */
  halt(signal?: NodeJS.Signals): Promise<void>;
  /** Starts it again after halt(), on the same data and port; resolves when it answers as at its first start. */
  relaunch(): Promise<void>;
}

export function restartable(server: ServerProcess, ready: () => Promise<boolean>, readyTimeoutMs: number): Restartable {
  return {
    halt: async (signal) => {
      await server.halt(signal);
    },
    relaunch: async () => {
      server.relaunch();
      await waitUntilReady(server, ready, { timeoutMs: readyTimeoutMs, intervalMs: 100 });
    },
  };
}

/**
 * Starts a server, retrying with fresh ports when the start failed because a port was taken
 * between probing it and binding it (other test runs share the machine).
 */
export async function withPortRetry<T>(start: () => Promise<T>, attempts = 3): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await start();
    } catch (error) {
      if (!(error instanceof StartError && error.portClash) || attempt >= attempts) throw error;
    }
  }
}

/** Runs a command to completion; the error carries its output, which is what one needs to fix it. */
export function run(
  command: string,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; user?: { uid: number; gid: number }; timeoutMs?: number } = {},
): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      command,
      args,
      {
        cwd: options.cwd,
        env: options.env ?? process.env,
        timeout: options.timeoutMs ?? 120_000,
        maxBuffer: 16 * 1024 * 1024,
        ...(options.user ? { uid: options.user.uid, gid: options.user.gid } : {}),
      },
      (error, stdout, stderr) => {
        if (error) {
          const output = `${stdout}${stderr}`.trim().split("\n").slice(-40).join("\n");
          const how = error.killed ? `killed (${error.signal ?? "timeout"})` : `exit ${String(error.code)}`;
          reject(new Error(`${command} ${args.join(" ")} failed (${how}):\n${output}`));
        } else {
          resolve(`${stdout}${stderr}`);
        }
      },
    );
  });
}

/** A fresh, private folder under the OS temp dir; never a fixed path, so runs do not collide. */
export async function makeTempDir(prefix: string): Promise<string> {
  installExitHandler();
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), `liberator-${prefix}-`));
  liveDirs.add(dir);
  return dir;
}

/** Removes a folder made by makeTempDir. */
export async function removeDir(dir: string): Promise<void> {
  await fsp.rm(dir, { recursive: true, force: true });
  liveDirs.delete(dir);
}

/*
 * A failed server's folder is removed, log included; a copy of the log is kept where a developer
 * or a CI artifact step can find it.
 */
function keepLog(server: ServerProcess): string {
  try {
    const dest = path.join(harnessCacheDir, "failed", `${path.basename(server.dir)}-${path.basename(server.logFile)}`);
    fs.mkdirSync(path.dirname(dest), { recursive: true });
    fs.copyFileSync(server.logFile, dest);
    return dest;
  } catch {
    return server.logFile;
  }
}

export function isRoot(): boolean {
  return typeof process.getuid === "function" && process.getuid() === 0;
}

/** uid/gid of a system user, e.g. "postgres". */
export async function lookupUser(name: string): Promise<{ uid: number; gid: number }> {
  const [uid, gid] = await Promise.all([run("id", ["-u", name]), run("id", ["-g", name])]);
  return { uid: Number(uid.trim()), gid: Number(gid.trim()) };
}

/**
 * Copies a prepared folder (an initialized data dir) with `cp -a`, keeping ownership and modes,
 * which the servers check.
 */
export async function copyDir(from: string, to: string): Promise<void> {
  await run("cp", ["-a", from, to]);
}

/**
 * Publishes `source` as the template `target` atomically: a copy under a temporary name, then a
 * rename. Two runs racing to create the same template both succeed; the loser's copy is dropped.
 */
export async function publishTemplate(source: string, target: string): Promise<void> {
  await fsp.mkdir(path.dirname(target), { recursive: true });
  const staging = `${target}.partial-${process.pid}-${Date.now()}`;
  try {
    await copyDir(source, staging);
    await fsp.rename(staging, target);
  } catch {
    // another run published it first, or the cache is not writable: the template is only a speed-up
  } finally {
    await fsp.rm(staging, { recursive: true, force: true });
  }
}
