/**
 * Workers of one test cluster, each a real `liberator run` process, and what the cluster tests
 * check about them: who runs what, and that every generator topic holds each record exactly once.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { Job, Queue } from "bullmq";
import { Redis } from "ioredis";
import { expect } from "vitest";
import { parse, stringify } from "yaml";
import { avroType } from "../../../src/runtime/avro/logical-types.js";
import { generatedRecord } from "../../../src/sources/generator/records.js";
import { readTopic, uniqueName, waitFor } from "../../harness/index.js";
import { harness } from "../../harness/env.js";
import { startDaemon, type Daemon } from "../../support/daemon.js";
export { logLines } from "../../support/daemon.js";
import { SourceOffsetStore } from "../../../src/runtime/offsets/source-offsets.js";
import { silentLog, testKafka } from "../../support/kafka.js";

export interface TestCluster {
  prefix: string;
  workers: Daemon[];
  /** The worker id of each daemon (`cluster.workerId`), index for index. */
  ids: string[];
  /** Starts one more worker on the same cluster (or another Redis URL, e.g. through a proxy). */
  add(options?: { redis?: string }): Promise<Daemon>;
  /** The BullMQ job of a connector, read straight from Redis. */
  job(connector: string): Promise<Job | undefined>;
  close(): Promise<void>;
}

export interface ClusterOptions {
  workers: number;
  connectors: unknown[];
  /** Overrides of the cluster block; short locks by default, so failovers take a few seconds. */
  cluster?: Record<string, unknown>;
  root?: Record<string, unknown>;
}

export const generator = (name: string, ratePerSecond = 50) => ({ name, type: "generator", topic: `${name}.events`, ratePerSecond });

export async function startCluster(options: ClusterOptions): Promise<TestCluster> {
  const prefix = uniqueName("cl");
  const ids: string[] = [];
  const workers: Daemon[] = [];
  const connection = new Redis(harness().redis.url, { maxRetriesPerRequest: null });
  const queue = new Queue("connectors", { connection, prefix });
  const add = async (extra: { redis?: string } = {}) => {
    const id = `w${ids.length + 1}`;
    ids.push(id);
    const daemon = await startDaemon({
      connectors: options.connectors,
      root: {
        cluster: { redis: extra.redis ?? harness().redis.url, queuePrefix: prefix, workerId: id, lockDurationMs: 2000, stalledIntervalMs: 500, ...options.cluster },
        shutdown: { gracePeriodMs: 5000 },
        ...options.root,
      },
    });
    workers.push(daemon);
    await daemon.waitReady();
    return daemon;
  };
  // a worker that never gets ready fails the start: none of them outlives the test
  await Promise.all(Array.from({ length: options.workers }, () => add())).catch(async (err: unknown) => {
    await Promise.all(workers.map((w) => w.kill()));
    await queue.close();
    connection.disconnect();
    throw err;
  });
  return {
    prefix,
    workers,
    ids,
    add,
    job: (connector) => Job.fromId(queue, `connector-${connector}`),
    close: async () => {
      await Promise.all(workers.filter((w) => w.child.exitCode === null && w.child.signalCode === null).map((w) => w.stop("SIGTERM", 10_000)));
      await queue.close();
      connection.disconnect();
    },
  };
}

/** Rewrites the connectors of a daemon's config file, as an operator edits it. */
export function editConnectors(daemon: Daemon, edit: (connectors: Record<string, unknown>[]) => unknown[]): void {
  const config = parse(readFileSync(daemon.configFile, "utf8")) as { connectors: Record<string, unknown>[] };
  writeFileSync(daemon.configFile, stringify({ ...config, connectors: edit(config.connectors) }));
}

/** Which worker runs each connector, as any worker's admin API reports it (running connectors only). */
export async function runningOn(daemon: Daemon): Promise<Map<string, string>> {
  const views = (await daemon.statuses()) as unknown as { name: string; state: string; worker: string | null }[];
  return new Map(views.filter((v) => v.state === "running" && v.worker).map((v) => [v.name, v.worker!]));
}

/** Waits until every connector named runs, and returns where. */
export async function waitRunning(daemon: Daemon, connectors: readonly string[], timeoutMs = 20_000): Promise<Map<string, string>> {
  return waitFor(
    async () => {
      const on = await runningOn(daemon);
      return connectors.every((c) => on.has(c)) ? on : undefined;
    },
    { timeoutMs, intervalMs: 50, message: `${connectors.join(", ")} running` },
  );
}

/** How many connectors each worker runs. */
export function spread(on: Map<string, string>): Map<string, number> {
  const count = new Map<string, number>();
  for (const worker of on.values()) count.set(worker, (count.get(worker) ?? 0) + 1);
  return count;
}

// the generator's own value schema, so the test reads what it writes
const eventType = avroType(generatedRecord("any", 1, 0).valueSchema!);

/** The ids of the generator records in a topic, in offset order. */
export async function generatorIds(topic: string): Promise<number[]> {
  const records = await readTopic(harness().kafka.brokers, topic, { timeoutMs: 30_000 });
  // the value is Avro in the Confluent wire format: magic byte, 4-byte schema id, body
  return records.map((r) => Number((eventType.fromBuffer(r.value!.subarray(5)) as { id: bigint }).id));
}

/**
 * Once the connectors no longer run: each one's topic holds records 1…seq of its committed
 * position, each exactly once, in order. A record lost or written twice by any worker breaks it.
 */
export async function expectExactlyOnce(...connectors: string[]): Promise<void> {
  const store = await SourceOffsetStore.open(testKafka(), silentLog, 1);
  try {
    await Promise.all(
      connectors.map(async (connector) => {
        const [committed, ids] = await Promise.all([store.read(connector), generatorIds(`${connector}.events`)]);
        const seq = (committed?.position as { seq: number } | undefined)?.seq;
        expect(seq, `${connector} committed a position`).toBeDefined();
        const seen = new Set<number>();
        const twice = ids.filter((id) => seen.has(id) || !seen.add(id));
        const missing = Array.from({ length: seq! }, (_, i) => i + 1).filter((id) => !seen.has(id));
        expect({ connector, twice, missing, outOfOrder: ids.some((id, i) => i > 0 && id < ids[i - 1]!) }).toEqual({ connector, twice: [], missing: [], outOfOrder: false });
        expect(ids.length, connector).toBe(seq);
      }),
    );
  } finally {
    await store.close();
  }
}
