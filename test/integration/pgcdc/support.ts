/**
 * What the pgcdc tests share: the connector's config for the harness PostgreSQL (started with
 * wal_level=logical), a scratch database whose slots are dropped with it, and the table read the
 * query way, to compare with a compacted topic. Reading topics back is the binlog tests' own.
 */
import type pg from "pg";
import { afterAll, beforeAll, expect } from "vitest";
import type { Source, SourceContext } from "../../../src/runtime/connector.js";
import { describePgTable } from "../../../src/runtime/db/introspect.js";
import { PG_READ_OPTIONS } from "../../../src/runtime/db/postgres.js";
import { tableStream } from "../../../src/runtime/sql-types/envelope.js";
import { pgcdcSpec } from "../../../src/sources/pgcdc/index.js";
import { testContext } from "../../acceptance/source-suite.js";
import { createDatabase, dropDatabase, harness, pgClient, uniqueName } from "../../harness/index.js";
import { closeRegistry, compact, keyString, readChanges, type Change } from "../binlog/support.js";

export function pgcdcConnector(name: string, database: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const { host, port, user, password } = harness().postgres;
  return { name, type: "pgcdc", connection: { host, port, user, password, database }, heartbeat: { intervalMs: 500 }, statusIntervalMs: 500, ...extra };
}

/** The pgcdc source in this process, as the runtime would create it, without Kafka (tests drive read()). */
export function pgcdcSource(database: string, extra: Record<string, unknown> = {}, limits?: SourceContext["limits"]): Source {
  const config = pgcdcSpec.config.parse(pgcdcConnector(uniqueName("pgcdc"), database, extra));
  if (pgcdcSpec.kind !== "source") throw new Error("pgcdc is a source");
  const ctx = testContext(config.name);
  return pgcdcSpec.create(config, limits ? { ...ctx, limits } : ctx);
}

/** Drops the database with the replication slots made in it (a slot keeps a database from being dropped). */
export async function dropPgcdcDatabase(name: string): Promise<void> {
  const admin = await pgClient(harness());
  try {
    for (let i = 0; i < 50; i++) {
      const { rows } = await admin.query<{ n: string }>("SELECT count(*) AS n FROM pg_replication_slots WHERE database = $1 AND active", [name]);
      if (Number(rows[0]!.n) === 0) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    await admin.query("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE database = $1 AND NOT active", [name]);
  } finally {
    await admin.end();
  }
  await dropDatabase("postgres", name);
}

/** A database of the file's own, with a client to it, dropped (slots, the registry) after its tests. */
export function scratchDatabase(): { readonly name: string; readonly client: pg.Client } {
  const state = {} as { name: string; client: pg.Client };
  beforeAll(async () => {
    state.name = await createDatabase("postgres");
    state.client = await pgClient(harness(), state.name);
  });
  afterAll(async () => {
    await state.client?.end();
    await closeRegistry();
    if (state.name) await dropPgcdcDatabase(state.name);
  });
  return state;
}

/** The table's rows now, the query source's way (the server's text through the shared mapping), by key. */
export async function pgTableRows(database: string, table: string, schema = "public"): Promise<Map<string, Record<string, unknown>>> {
  const client = await pgClient(harness(), database, { ...PG_READ_OPTIONS });
  try {
    const stream = tableStream(await describePgTable(client, schema, table), { topic: "compare" });
    const { rows } = await client.query<Record<string, unknown>>(`SELECT * FROM "${schema}"."${table}"`);
    return new Map(
      rows.map((r) => {
        const row = stream.row(r);
        return [keyString(stream.keyOf(row)), row];
      }),
    );
  } finally {
    await client.end();
  }
}

/** Compacting the topic gives exactly the table: same keys, every column equal. */
export async function expectTopicEqualsPgTable(topic: string, database: string, table: string, timeoutMs = 60_000): Promise<Change[]> {
  const want = await pgTableRows(database, table);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const changes = await readChanges(topic);
    const got = compact(changes);
    if (got.size === want.size && [...want].every(([k, row]) => keyString(got.get(k)) === keyString(row))) return changes;
    if (Date.now() > deadline) expect(Object.fromEntries(got), `${topic} compacted vs ${database}.${table}`).toEqual(Object.fromEntries(want));
    await new Promise((r) => setTimeout(r, 500));
  }
}
