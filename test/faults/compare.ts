/**
 * The suite's own three-way comparison: the source rows, the last state per key that a
 * read_committed consumer of the topics sees, and each sink's rows. It counts
 *
 * - lost: a source row missing from Kafka's state or a sink;
 * - extra: a row in Kafka's state or a sink that the source no longer has (a delete not carried,
 *   a rolled-back change, a key left behind by a primary-key change);
 * - stale: the key is there with other values (an older version, or a value written wrongly);
 * - doubled: a change (key and version) twice in a topic, or written twice by a sink (its audit
 *   table, filled by a trigger, has the pair twice).
 */
import { Kafka, logLevel } from "kafkajs";
import type { RowDataPacket } from "mysql2/promise";
import { pino } from "pino";
import { createSchemaService, parseSchemaRegistryConfig } from "../../src/runtime/schema-registry/index.js";
import { LiberatorError } from "../../src/runtime/errors.js";
import { kafkaClientConfig, readTopic, waitFor, type TopicRecord } from "../harness/index.js";
import { onMaria, onPostgres, TABLES, type Rig, type TableName } from "./rig.js";

/** A table's rows by key, each row in one canonical text form. */
export type Rows = Map<string, string>;
type State = Record<TableName, Rows>;

/** One text form of a row, whatever the reader (mysql2, pg, Avro) made of its values. */
function canonical(table: TableName, row: Record<string, unknown>): { key: string; row: string } {
  const text = (v: unknown) =>
    v === null || v === undefined ? null : typeof v === "string" || typeof v === "number" || typeof v === "bigint" ? String(v) : JSON.stringify(v);
  const key = TABLES[table].map((c) => text(row[c])).join("/");
  if (table === "items") return { key, row: JSON.stringify([text(row.id), Number(row.v), text(row.label), Number(row.amount).toFixed(2)]) };
  return { key, row: JSON.stringify([text(row.region), Number(row.seq), Number(row.v), text(row.note)]) };
}

export function rowsOf(table: TableName, rows: Record<string, unknown>[]): Rows {
  return new Map(rows.map((r) => canonical(table, r)).map(({ key, row }) => [key, row]));
}

/** Every column of each table, as source and targets are read. */
export const SELECT: Record<TableName, string> = {
  items: "SELECT id, v, label, amount FROM items",
  pairs: "SELECT region, seq, v, note FROM pairs",
};

async function mariaState(rig: Rig, database: string): Promise<State> {
  return onMaria(
    rig,
    async (conn) => {
      const state = {} as State;
      for (const table of Object.keys(TABLES) as TableName[]) {
        const [rows] = await conn.query<RowDataPacket[]>(SELECT[table]);
        state[table] = rowsOf(table, rows);
      }
      return state;
    },
    database,
  );
}

async function postgresState(rig: Rig): Promise<State> {
  return onPostgres(rig, async (client) => {
    const state = {} as State;
    for (const table of Object.keys(TABLES) as TableName[]) state[table] = rowsOf(table, (await client.query(SELECT[table])).rows);
    return state;
  });
}

/** (table, key, v) pairs a sink wrote more than once, from its audit table. */
async function auditDoubles(rig: Rig, target: "postgres" | "mariadb"): Promise<string[]> {
  const sql = "SELECT tbl, k, v, COUNT(*) AS n FROM audit GROUP BY tbl, k, v HAVING COUNT(*) > 1 ORDER BY tbl, k, v";
  const rows =
    target === "postgres"
      ? (await onPostgres(rig, (client) => client.query(sql))).rows
      : await onMaria(rig, async (conn) => (await conn.query<RowDataPacket[]>(sql))[0], rig.targets.mariadb);
  return rows.map((r: Record<string, unknown>) => `${String(r.tbl)} ${String(r.k)} v${String(r.v)} written ${String(r.n)} times`);
}

interface KafkaView {
  state: State;
  doubled: string[];
  records: number;
  /** Records that are no change event of the source (`topic/partition@offset`): poison a test put there, or a fault. */
  undecodable: string[];
}

/** The decoded key and value, or undefined for a record the deserializer calls bad data. */
async function decoded(schemas: Awaited<ReturnType<typeof createSchemaService>>, record: TopicRecord): Promise<{ key: unknown; value: unknown } | undefined> {
  try {
    return { key: (await schemas.deserializer.deserialize(record.key))?.value, value: (await schemas.deserializer.deserialize(record.value))?.value };
  } catch (err) {
    if (err instanceof LiberatorError && err.category === "data") return undefined;
    throw err;
  }
}

/** The topics read as a read_committed consumer reads them, folded into the last state per key. */
async function kafkaView(rig: Rig): Promise<KafkaView> {
  const connection = { brokers: rig.kafka.brokers };
  const kafka = new Kafka({ ...kafkaClientConfig(connection, "fault-suite-compare"), logLevel: logLevel.NOTHING });
  const schemas = await createSchemaService(parseSchemaRegistryConfig({}), { kafka, log: pino({ level: "silent" }) });
  try {
    const view: KafkaView = { state: {} as State, doubled: [], records: 0, undecodable: [] };
    for (const table of Object.keys(TABLES) as TableName[]) {
      const rows: Rows = new Map();
      const seen = new Set<string>();
      for (const record of await readTopic(connection, rig.topics[table], { timeoutMs: 120_000 })) {
        const change = await decoded(schemas, record);
        if (!change) {
          view.undecodable.push(`${record.topic}/${record.partition}@${record.offset}`);
          continue;
        }
        view.records++;
        const keyText = canonical(table, change.key as Record<string, unknown>).key;
        const value = change.value as { op: string; before: Record<string, unknown> | null; after: Record<string, unknown> | null } | undefined;
        if (!value) {
          rows.delete(keyText);
          continue;
        }
        const image = value.op === "d" ? value.before! : value.after!;
        const version = `${keyText} ${value.op} v${String(image.v)}`;
        if (seen.has(version)) view.doubled.push(`${table} ${version} at offset ${record.offset}`);
        seen.add(version);
        if (value.op === "d") rows.delete(keyText);
        else rows.set(keyText, canonical(table, value.after!).row);
      }
      view.state[table] = rows;
    }
    return view;
  } finally {
    await schemas.close();
  }
}

export interface Difference {
  where: string;
  lost: string[];
  extra: string[];
  stale: string[];
}

/** One table's rows against the source's, row by row and column by column, into `diff`. */
export function tableDifferences(table: TableName, want: Rows, got: Rows, diff: Difference): Difference {
  for (const [key, row] of want) {
    const other = got.get(key);
    if (other === undefined) diff.lost.push(`${table} ${key}`);
    else if (other !== row) diff.stale.push(`${table} ${key}: ${other}, source has ${row}`);
  }
  for (const key of got.keys()) if (!want.has(key)) diff.extra.push(`${table} ${key}`);
  return diff;
}

function differences(where: string, want: State, got: State): Difference {
  const diff: Difference = { where, lost: [], extra: [], stale: [] };
  for (const table of Object.keys(TABLES) as TableName[]) tableDifferences(table, want[table], got[table], diff);
  return diff;
}

const clean = (d: Difference) => d.lost.length + d.extra.length + d.stale.length === 0;

export interface Comparison {
  /** Source rows per table. */
  rows: Record<TableName, number>;
  kafkaRecords: number;
  differences: Difference[];
  doubled: string[];
  /** Records of the topics that no deserializer reads (`topic/partition@offset`), in offset order. */
  undecodable: string[];
  /** How long the sinks took to reach the source's state once the writers had stopped. */
  catchUpMs: number;
}

/** Problems as lines, empty when the three sides agree: what the suite asserts is empty. `poison`: the undecodable records a test put there. */
export function problems(c: Comparison, poison: readonly string[] = []): string[] {
  const lines: string[] = [];
  const unexpected = c.undecodable.filter((r) => !poison.includes(r));
  if (unexpected.length) lines.push(`undecodable records in the topics: ${unexpected.join(", ")}`);
  const few = (items: string[]) => `${items.length}${items.length ? ` (${items.slice(0, 5).join("; ")}${items.length > 5 ? "; …" : ""})` : ""}`;
  for (const d of c.differences) {
    if (!clean(d)) lines.push(`${d.where}: lost ${few(d.lost)}, extra ${few(d.extra)}, stale ${few(d.stale)}`);
  }
  if (c.doubled.length) lines.push(`doubled ${few(c.doubled)}`);
  return lines;
}

/**
 * Once the writers have stopped: waits for both sinks to hold what the source holds (up to
 * `timeoutMs`), then compares the three sides once more with Kafka's. The source is read again
 * at the end, so a source that moved meanwhile would show as a difference, not be hidden.
 */
export async function compareThreeWays(rig: Rig, timeoutMs = 120_000): Promise<Comparison> {
  const started = Date.now();
  const sinksAgree = async () => {
    const source = await mariaState(rig, rig.sourceDb);
    const [pg, my] = await Promise.all([postgresState(rig), mariaState(rig, rig.targets.mariadb)]);
    return clean(differences("", source, pg)) && clean(differences("", source, my));
  };
  await waitFor(sinksAgree, { timeoutMs, intervalMs: 1000 }).catch(() => undefined);
  const catchUpMs = Date.now() - started;
  const kafka = await kafkaView(rig);
  const [source, pg, my] = await Promise.all([mariaState(rig, rig.sourceDb), postgresState(rig), mariaState(rig, rig.targets.mariadb)]);
  return {
    rows: { items: source.items.size, pairs: source.pairs.size },
    kafkaRecords: kafka.records,
    undecodable: kafka.undecodable,
    differences: [differences("Kafka", source, kafka.state), differences("PostgreSQL sink", source, pg), differences("MariaDB sink", source, my)],
    doubled: [...kafka.doubled, ...(await auditDoubles(rig, "postgres")).map((d) => `PostgreSQL sink: ${d}`), ...(await auditDoubles(rig, "mariadb")).map((d) => `MariaDB sink: ${d}`)],
    catchUpMs,
  };
}
