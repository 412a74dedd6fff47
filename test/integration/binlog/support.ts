/**
 * What the binlog tests share: the connector's config for the harness MariaDB, the topic read back
 * through the schema registry the daemon wrote to, and the table read the query way, to compare.
 */
import { Kafka, logLevel } from "kafkajs";
import type { Connection } from "mysql2/promise";
import pino from "pino";
import { afterAll, beforeAll, expect } from "vitest";
import type { Source, SourceContext } from "../../../src/runtime/connector.js";
import { tableStream } from "../../../src/runtime/sql-types/envelope.js";
import { createSchemaService, parseSchemaRegistryConfig, type SchemaService } from "../../../src/runtime/schema-registry/index.js";
import { describeMysqlTable } from "../../../src/runtime/db/introspect.js";
import { MYSQL_READ_OPTIONS, MYSQL_SESSION_SQL, selectExact } from "../../../src/runtime/db/mysql.js";
import { binlogSpec } from "../../../src/sources/binlog/index.js";
import { testContext } from "../../acceptance/source-suite.js";
import { createDatabase, dropDatabase, harness, mysqlConnection, readTopic, uniqueName, waitFor, type TopicRecord } from "../../harness/index.js";
import type { Daemon } from "../../support/daemon.js";

export function binlogConnector(name: string, database: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const { host, port, user, password } = harness().mariadb;
  return { name, type: "binlog", connection: { host, port, user, password }, include: [`${database}.*`], heartbeat: { intervalMs: 500 }, ...extra };
}

/** The binlog source in this process, as the runtime would create it, without Kafka (tests drive read()). */
export function binlogSource(database: string, extra: Record<string, unknown> = {}, limits?: SourceContext["limits"]): Source {
  const config = binlogSpec.config.parse(binlogConnector(uniqueName("binlog"), database, extra));
  if (binlogSpec.kind !== "source") throw new Error("binlog is a source");
  const ctx = testContext(config.name);
  return binlogSpec.create(config, limits ? { ...ctx, limits } : ctx);
}

/** A database of the file's own, with a connection to it, dropped (and the registry closed) after its tests. */
export function scratchDatabase(): { readonly name: string; readonly conn: Connection } {
  const state = {} as { name: string; conn: Connection };
  beforeAll(async () => {
    state.name = await createDatabase("mariadb");
    state.conn = await mysqlConnection(harness(), state.name);
  });
  afterAll(async () => {
    await state.conn?.end();
    await closeRegistry();
    if (state.name) await dropDatabase("mariadb", state.name);
  });
  return state;
}

export interface Change {
  offset: bigint;
  key: Record<string, unknown> | null;
  /** The envelope; null for a tombstone. */
  value: { op: string; before: Record<string, unknown> | null; after: Record<string, unknown> | null; source: Record<string, unknown>; transaction: unknown } | null;
  schemaId: number | null;
  raw: TopicRecord;
}

let service: Promise<SchemaService> | undefined;

/** The embedded registry the daemon writes to (the default `_liberator_schemas`). */
export function registry(): Promise<SchemaService> {
  const kafka = new Kafka({ clientId: "binlog-tests", brokers: harness().kafka.brokers, logLevel: logLevel.NOTHING });
  return (service ??= createSchemaService(parseSchemaRegistryConfig({}), { kafka, log: pino({ level: "silent" }) }));
}

export async function closeRegistry(): Promise<void> {
  const s = service;
  service = undefined;
  await (await s)?.close();
}

/** Every committed record of a topic, decoded, in offset order. */
export async function readChanges(topic: string, expect?: number | ((records: TopicRecord[]) => boolean), timeoutMs = 60_000): Promise<Change[]> {
  const records = await readTopic(harness().kafka.brokers, topic, { ...(expect !== undefined ? { expect } : {}), timeoutMs });
  const { deserializer } = await registry();
  return Promise.all(
    records.map(async (r) => {
      const key = await deserializer.deserialize(r.key);
      const value = await deserializer.deserialize(r.value);
      return {
        offset: BigInt(r.offset),
        key: (key?.value as Record<string, unknown> | undefined) ?? null,
        value: (value?.value as Change["value"]) ?? null,
        schemaId: value?.schemaId ?? null,
        raw: r,
      };
    }),
  );
}

/** The topic as a compacted topic would keep it: the last row per key, deleted keys gone. */
export function compact(changes: readonly Change[]): Map<string, Record<string, unknown>> {
  const rows = new Map<string, Record<string, unknown>>();
  for (const c of changes) {
    const k = keyString(c.key);
    if (c.value === null || c.value.op === "d") rows.delete(k);
    else if (c.value.after) rows.set(k, c.value.after);
  }
  return rows;
}

export const keyString = (key: unknown) => JSON.stringify(key, (_k, v: unknown) => (typeof v === "bigint" ? `${v}n` : v));

/** The table's rows now, the query source's way (information_schema, the binary protocol's exact reads), by key. */
export async function tableRows(database: string, table: string): Promise<Map<string, Record<string, unknown>>> {
  const conn: Connection = await mysqlConnection(harness(), database, { ...MYSQL_READ_OPTIONS });
  try {
    await conn.query(MYSQL_SESSION_SQL);
    const stream = tableStream(await describeMysqlTable(conn, database, table), { topic: "compare" });
    const select = stream.columns.map((c) => `${c.select(`\`${c.column}\``)} AS \`${c.column}\``).join(", ");
    const { rows } = await selectExact(conn, `SELECT ${select} FROM \`${table}\``);
    return new Map(rows.map((r) => {
      const row = stream.row(r);
      return [keyString(stream.keyOf(row)), row];
    }));
  } finally {
    await conn.end();
  }
}

/** Compacting the topic gives exactly the table: same keys, every column equal. */
export async function expectTopicEqualsTable(topic: string, database: string, table: string, timeoutMs = 60_000): Promise<Change[]> {
  const want = await tableRows(database, table);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const changes = await readChanges(topic);
    const got = compact(changes);
    if (got.size === want.size && [...want].every(([k, row]) => keyString(got.get(k)) === keyString(row))) return changes;
    if (Date.now() > deadline) {
      expect(Object.fromEntries(got), `${topic} compacted vs ${database}.${table}`).toEqual(Object.fromEntries(want));
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** The binlog connector's phase as the daemon's admin API reports it ("snapshot", "stream"…). */
export async function phaseOf(daemon: Daemon, name: string): Promise<string | undefined> {
  const details = (await daemon.status(name))?.details as { phase?: string } | undefined;
  return details?.phase;
}

/** Until the connector streams (its snapshot, if any, is done). */
export function untilStreaming(daemon: Daemon, name: string, timeoutMs = 60_000): Promise<unknown> {
  return waitFor(async () => (await phaseOf(daemon, name)) === "stream", { timeoutMs, message: `${name} to stream` }).catch((err: Error) => {
    throw new Error(`${err.message}\n${daemon.output().slice(-3000)}`);
  });
}

/**
 * Each key's records, in offset order, tell one history: a create at version 1, each update one
 * version up, a snapshot read at the version it had (never older than what came before), nothing
 * after a delete. Every change (id, version) appears once.
 */
export function checkHistories(changes: readonly Change[]): void {
  const seen = new Set<string>();
  const last = new Map<string, { v: number; deleted: boolean }>();
  for (const c of changes) {
    if (c.value === null) continue;
    const k = keyString(c.key);
    const prev = last.get(k);
    const { op } = c.value;
    const v = Number((op === "d" ? c.value.before : c.value.after)!.v);
    const where = `key ${k} at offset ${c.offset}: ${op} v${v} after ${prev ? `v${prev.v}${prev.deleted ? " (deleted)" : ""}` : "nothing"}`;
    expect(prev?.deleted ?? false, where).toBe(false);
    if (op === "c") expect(prev === undefined && v === 1, where).toBe(true);
    if (op === "u") expect(prev === undefined || v === prev.v + 1, where).toBe(true);
    if (op === "r" || op === "d") expect(prev === undefined || v >= prev.v, where).toBe(true);
    if (op !== "r") {
      const change = `${k}:${op}:${v}`;
      expect(seen.has(change), `${change} twice`).toBe(false);
      seen.add(change);
    }
    last.set(k, { v, deleted: op === "d" });
  }
}

/**
 * Kills the daemon with SIGKILL `kills` times and restarts it: the first `snapshotKills` once its
 * run has committed a snapshot chunk of its own, the others while it streams. Returns the daemon
 * running after the last restart and the phase each kill hit.
 */
export async function killAcrossPhases(first: Daemon, name: string, kills: number, snapshotKills: number): Promise<{ daemon: Daemon; phases: string[] }> {
  let daemon = first;
  const phases: string[] = [];
  let copied = 0;
  for (let i = 0; i < kills; i++) {
    const d: Daemon = daemon;
    if (i < snapshotKills) {
      await waitFor(async () => {
        const position = (await d.status(name))?.position as { phase: string; snapshot?: { rows: number } } | null | undefined;
        return position?.phase === "snapshot" && (position.snapshot?.rows ?? 0) > copied ? position : undefined;
      }, { timeoutMs: 60_000, message: "a snapshot chunk" }).then((p) => (copied = p.snapshot!.rows));
      await new Promise((r) => setTimeout(r, Math.random() * 300));
    } else {
      await untilStreaming(d, name);
      await new Promise((r) => setTimeout(r, 300 + Math.random() * 1200));
    }
    phases.push(String(await phaseOf(d, name)));
    await d.kill();
    daemon = await d.restart();
  }
  return { daemon, phases };
}

/**
 * The records of one source transaction, by table: one transaction block (id, total_order 1…n,
 * data_collection_order 1…n per table), and in each partition one Kafka transaction (no commit
 * marker, a skipped offset, among its records).
 */
export function expectOneTransaction(byTable: ReadonlyMap<string, Change[]>, sizes: Readonly<Record<string, number>>): void {
  const all = [...byTable.values()].flat();
  const total = Object.values(sizes).reduce((a, b) => a + b, 0);
  expect(all.length).toBe(total);
  const blocks = all.map((c) => c.value!.transaction as { id: string; total_order: bigint; data_collection_order: bigint });
  expect(new Set(blocks.map((b) => b.id)).size).toBe(1);
  expect(blocks.map((b) => Number(b.total_order)).sort((x, y) => x - y)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
  for (const [table, changes] of byTable) {
    expect(changes.map((c) => Number((c.value!.transaction as { data_collection_order: bigint }).data_collection_order)), table).toEqual(Array.from({ length: sizes[table]! }, (_, i) => i + 1));
    const byPartition = new Map<number, bigint[]>();
    for (const c of changes) byPartition.set(c.raw.partition, [...(byPartition.get(c.raw.partition) ?? []), c.offset]);
    for (const offsets of byPartition.values()) expect(offsets[offsets.length - 1]! - offsets[0]! + 1n, table).toBe(BigInt(offsets.length));
  }
}
