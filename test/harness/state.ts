import fs from "node:fs";
import fsp from "node:fs/promises";
import path from "node:path";
import { Kafka } from "kafkajs";
import { kafkaClientConfig } from "./kafka.js";
import { mariadbAnswers } from "./mariadb.js";
import { serversStateFile } from "./paths.js";
import { groupAlive, stopGroup } from "./process.js";
import { postgresAnswers } from "./postgres.js";
import { parseRedisUrl, redisPing } from "./redis.js";
import { ALL_SERVERS, type Harness, type HarnessInfo, type ServerKind } from "./start.js";

/*
 * Long-lived dev servers (`npm run servers -- start`) are described in .cache/harness/servers.json
 * so test runs can reuse them instead of paying Kafka's start-up every time.
 */
export interface ServersState {
  version: 1;
  startedAt: string;
  info: HarnessInfo;
  processes: { kind: ServerKind; pid: number; dir: string; stopSignal: NodeJS.Signals }[];
}

export function readServersState(file = serversStateFile): ServersState | undefined {
  try {
    const state = JSON.parse(fs.readFileSync(file, "utf8")) as ServersState;
    return state.version === 1 && state.info ? state : undefined;
  } catch {
    return undefined;
  }
}

export async function writeServersState(harness: Harness, file = serversStateFile): Promise<ServersState> {
  const processes: ServersState["processes"] = [];
  for (const kind of ALL_SERVERS) {
    const proc = harness.servers[kind]?.process;
    // the machine's Redis has no process of ours
    if (proc) processes.push({ kind, pid: proc.pid, dir: proc.dir, stopSignal: proc.stopSignal });
  }
  const state: ServersState = { version: 1, startedAt: new Date().toISOString(), info: harness.info, processes };
  await fsp.mkdir(path.dirname(file), { recursive: true });
  const staging = `${file}.${process.pid}`;
  await fsp.writeFile(staging, JSON.stringify(state, null, 2) + "\n");
  await fsp.rename(staging, file);
  return state;
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return Promise.race([
    promise,
    new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`no answer in ${ms} ms`)), ms).unref()),
  ]);
}

async function kafkaAnswers(info: HarnessInfo["kafka"]): Promise<boolean> {
  const admin = new Kafka({ ...kafkaClientConfig(info), connectionTimeout: 1000, retry: { retries: 0 } }).admin();
  try {
    await admin.connect();
    await admin.describeCluster();
    return true;
  } finally {
    await admin.disconnect();
  }
}

/** Whether each server of `info` answers a trivial request now. */
export async function probeServers(info: HarnessInfo, timeoutMs = 3000): Promise<Record<ServerKind, boolean>> {
  const probes: Record<ServerKind, () => Promise<boolean>> = {
    kafka: () => kafkaAnswers(info.kafka),
    mariadb: () => mariadbAnswers(info.mariadb, 1000),
    postgres: () => postgresAnswers(info.postgres, 1000),
    redis: () => {
      const { host, port } = parseRedisUrl(info.redis.url);
      return redisPing(host, port, timeoutMs);
    },
  };
  const entries = await Promise.all(
    ALL_SERVERS.map(async (kind) => [kind, await withTimeout(probes[kind](), timeoutMs).catch(() => false)] as const),
  );
  return Object.fromEntries(entries) as Record<ServerKind, boolean>;
}

/*
 * A pid from servers.json may belong to an unrelated process after a reboot; ours carry their
 * folder on the command line, which /proc shows.
 */
export function isOurProcess(p: ServersState["processes"][number]): boolean {
  if (!groupAlive(p.pid)) return false;
  try {
    return fs.readFileSync(`/proc/${p.pid}/cmdline`, "utf8").includes(p.dir);
  } catch {
    return !fs.existsSync("/proc/self");
  }
}

/** The dev servers' details when servers.json exists, its processes live and every server answers. */
export async function reusableServers(file = serversStateFile): Promise<HarnessInfo | undefined> {
  const state = readServersState(file);
  if (!state) return undefined;
  if (!state.processes.every(isOurProcess)) return undefined;
  const answers = await probeServers(state.info);
  return Object.values(answers).every(Boolean) ? state.info : undefined;
}

/** Stops the dev servers named in servers.json, removes their folders and the file. */
export async function stopServersFromState(state: ServersState, file = serversStateFile): Promise<void> {
  await Promise.all(
    state.processes.map(async (p) => {
      if (isOurProcess(p)) await stopGroup(p.pid, p.stopSignal, 5000);
      await fsp.rm(p.dir, { recursive: true, force: true });
    }),
  );
  await fsp.rm(file, { force: true });
}
