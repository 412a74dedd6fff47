import type { Connection } from "mysql2/promise";
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { describeMysqlTable } from "../../../src/runtime/db/introspect.js";
import { MYSQL_READ_OPTIONS, MYSQL_SESSION_SQL, selectExact } from "../../../src/runtime/db/mysql.js";
import { PG_READ_OPTIONS } from "../../../src/runtime/db/postgres.js";
import { createDatabase, dropDatabase, harness, mysqlConnection, pgClient, readTopic, waitFor } from "../../harness/index.js";
import { startDaemon, type Daemon } from "../../support/daemon.js";
import { durationText, rawReader, sixDigits } from "../../support/oracle/avro.js";
import { mariadbTables, normalizeServer, serverExpression, type OracleColumn } from "../../support/oracle/mariadb.js";
import { PG_PREAMBLE, PG_TABLES, pgNormalizeServer, pgServerExpression, type PgColumn } from "../../support/oracle/postgres.js";
import { oracleSeed, random } from "../../support/oracle/random.js";
import { insertStatements, literalRows } from "../../support/oracle/rows.js";
import { oracleConnectorName } from "../../support/oracle/topics.js";
import { binlogConnector, scratchDatabase } from "../binlog/support.js";

/*
 * The database as the oracle for the sql sinks (issue 15): seeded values of every MariaDB type
 * (binlog source) into a MariaDB and a PostgreSQL target, and of every PostgreSQL type (query
 * source) into a PostgreSQL target, each table created by autoCreate; every value in a target is
 * compared, by that database's own rendering, with the value at the source. PostgreSQL's text
 * holds no NUL: the MariaDB rows with one (only among the edges here) must be refused into the
 * dead-letter topic (errors.tolerance: all), every other row must arrive exact.
 * Replay a failure with ORACLE_SEED=<seed>.
 */
const SEED = oracleSeed();
const MARIADB = Object.entries(mariadbTables(false));
const POSTGRES = Object.entries(PG_TABLES);
const GENERATED = 2000;

type Rows = Map<number, Record<string, unknown>>;

/** A MariaDB column read back from the PostgreSQL column autoCreate made for it, rendered as MariaDB renders the source (mariadb.ts). */
function pgOfMariadb(c: OracleColumn): { sql: string; value(v: unknown): unknown } {
  const col = `"${c.name}"`;
  const text = (v: unknown) => v as string;
  switch (c.kind) {
    case "float":
      return { sql: `encode(float4send(${col}), 'hex')`, value: (v) => Buffer.from(v as string, "hex").readFloatBE(0) };
    case "double":
      return { sql: `encode(float8send(${col}), 'hex')`, value: (v) => Buffer.from(v as string, "hex").readDoubleBE(0) };
    case "bit1":
      return { sql: `${col}::text`, value: (v) => (v === "true" ? "1" : "0") };
    case "bits":
      return { sql: `encode(${col}, 'hex')`, value: (v) => (v === "" ? "0" : BigInt(`0x${v as string}`).toString()) };
    case "text":
      return { sql: `upper(encode(convert_to(${col}::text, 'UTF8'), 'hex'))`, value: text };
    case "set":
      return { sql: `upper(encode(convert_to(array_to_string(${col}, ','), 'UTF8'), 'hex'))`, value: text };
    case "bytes":
      return { sql: `upper(encode(${col}, 'hex'))`, value: text };
    case "year":
      return { sql: `${col}::text`, value: (v) => (v as string).padStart(4, "0") };
    case "datetime":
      return { sql: `${col}::text`, value: (v) => sixDigits(v as string) };
    case "timestamp":
      return { sql: `${col}::text`, value: (v) => sixDigits((v as string).replace(/\+00$/, "")) };
    case "time":
      return { sql: `(extract(epoch FROM ${col}) * 1000000)::numeric(20,0)::text`, value: (v) => durationText(BigInt(v as string)) };
    default:
      return { sql: `${col}::text`, value: text };
  }
}

describe(`values through the sql sinks, judged by the target and the source databases (seed ${SEED})`, () => {
  const mariadbSource = scratchDatabase();
  let pgSource: string;
  const targets = { mariadb: "", pgFromMariadb: "", pgFromPg: "" };
  let daemon: Daemon | undefined;
  let mariadbReader: Connection;
  let mariadbTarget: Connection;
  const pg: Record<string, pg.Client> = {};
  const binlog = oracleConnectorName("binlog");
  const query = oracleConnectorName("query");
  const sinks = { mariadb: oracleConnectorName("sink_mariadb"), pgFromMariadb: oracleConnectorName("sink_pg"), pgFromPg: oracleConnectorName("sink_pgpg") };
  const written = new Map<string, number>();

  /** A table's rows as the server renders them, by id. */
  const mariadbRows = async (conn: Connection, table: string, columns: OracleColumn[]): Promise<Rows> => {
    const { rows } = await selectExact(conn, `SELECT id, ${columns.map((c) => `${serverExpression(c)} AS \`${c.name}\``).join(", ")} FROM \`${table}\``);
    return new Map(rows.map((row) => [Number(row.id), Object.fromEntries(columns.map((c) => [c.name, normalizeServer(c, row[c.name])]))]));
  };
  const pgRows = async (client: pg.Client, table: string, columns: PgColumn[]): Promise<Rows> => {
    const { rows } = await client.query<Record<string, unknown>>(`SELECT id, ${columns.map((c) => `${pgServerExpression(c)} AS "${c.name}"`).join(", ")} FROM "${table}"`);
    return new Map(rows.map((row) => [Number(row.id), Object.fromEntries(columns.map((c) => [c.name, pgNormalizeServer(c, row[c.name])]))]));
  };

  /** Differences between a source's rows and a target's, each naming the seed, the table, the column and both renderings. */
  const differences = (table: string, columns: readonly { name: string; ddl: string }[], source: Rows, target: Rows, refused: Set<number>): string[] => {
    const out: string[] = [];
    for (const [id, row] of source) {
      const there = target.get(id);
      if (refused.has(id)) {
        if (there) out.push(`seed ${SEED} ${table} id ${id}: refused, but in the target`);
        continue;
      }
      if (!there) {
        out.push(`seed ${SEED} ${table} id ${id}: missing in the target`);
        continue;
      }
      for (const c of columns) {
        if (!Object.is(row[c.name], there[c.name])) out.push(`seed ${SEED} ${table}.${c.name} ${c.ddl} id ${id}: source ${JSON.stringify(row[c.name])}, target ${JSON.stringify(there[c.name])}`);
      }
    }
    for (const id of target.keys()) if (!source.has(id)) out.push(`seed ${SEED} ${table} id ${id}: in the target, not at the source`);
    return out;
  };

  const sink = (name: string, dialect: "postgres" | "mysql", database: string, topics: string[]) => {
    const server = dialect === "postgres" ? harness().postgres : harness().mariadb;
    return { name, type: "sql", dialect, connection: { host: server.host, port: server.port, user: server.user, password: server.password, database }, topics, errors: { tolerance: "all" } };
  };

  beforeAll(async () => {
    console.log(`oracle seed ${SEED} (replay: ORACLE_SEED=${SEED})`);
    const r = random(SEED);
    await mariadbSource.conn.query("SET sql_mode = '', time_zone = '+05:30'");
    for (const [table, columns] of MARIADB) {
      await mariadbSource.conn.query(`CREATE TABLE \`${table}\` (id INT PRIMARY KEY, ${columns.map((c) => `\`${c.name}\` ${c.ddl}`).join(", ")}) DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`);
      const rows = literalRows(r, columns, 1, GENERATED);
      written.set(`mariadb.${table}`, rows.length);
      for (const sql of insertStatements(table, columns, rows, (n) => `\`${n}\``)) await mariadbSource.conn.query(sql);
    }
    pgSource = await createDatabase("postgres");
    targets.pgFromMariadb = await createDatabase("postgres");
    targets.pgFromPg = await createDatabase("postgres");
    targets.mariadb = await createDatabase("mariadb");
    for (const db of [pgSource, targets.pgFromMariadb, targets.pgFromPg]) pg[db] = await pgClient(harness(), db, { ...PG_READ_OPTIONS });
    for (const sql of PG_PREAMBLE) {
      await pg[pgSource]!.query(sql);
      await pg[targets.pgFromPg]!.query(sql);
    }
    for (const [table, columns] of POSTGRES) {
      await pg[pgSource]!.query(`CREATE TABLE "${table}" (id integer PRIMARY KEY, ${columns.map((c) => `"${c.name}" ${c.ddl}`).join(", ")})`);
      const rows = literalRows(r, columns, 1, GENERATED);
      written.set(`postgres.${table}`, rows.length);
      for (const sql of insertStatements(table, columns, rows, (n) => `"${n}"`, 100)) await pg[pgSource]!.query(sql);
    }
    const { host, port, user, password } = harness().postgres;
    const mariadbTopics = MARIADB.map(([t]) => `${binlog}.${mariadbSource.name}.${t}`);
    const pgTopics = POSTGRES.map(([t]) => `${query}.public.${t}`);
    daemon = await startDaemon({
      connectors: [
        binlogConnector(binlog, mariadbSource.name, { zeroDates: null, partialZeroDates: null }),
        { name: query, type: "query", dialect: "postgres", connection: { host, port, user, password, database: pgSource }, tables: POSTGRES.map(([t]) => `public.${t}`), mode: "incrementing", pollIntervalMs: 200 },
        sink(sinks.mariadb, "mysql", targets.mariadb, mariadbTopics),
        sink(sinks.pgFromMariadb, "postgres", targets.pgFromMariadb, mariadbTopics),
        sink(sinks.pgFromPg, "postgres", targets.pgFromPg, pgTopics),
      ],
    });
    mariadbReader = await mysqlConnection(harness(), mariadbSource.name, { ...MYSQL_READ_OPTIONS });
    await mariadbReader.query(MYSQL_SESSION_SQL);
    mariadbTarget = await mysqlConnection(harness(), targets.mariadb, { ...MYSQL_READ_OPTIONS });
    await mariadbTarget.query(MYSQL_SESSION_SQL);
  }, 400_000);

  afterAll(async () => {
    await daemon?.stop();
    await mariadbReader?.end();
    await mariadbTarget?.end();
    for (const client of Object.values(pg)) await client.end();
    for (const db of [pgSource, targets.pgFromMariadb, targets.pgFromPg]) if (db) await dropDatabase("postgres", db);
    if (targets.mariadb) await dropDatabase("mariadb", targets.mariadb);
  });

  /** Rows in a target table so far (0 before autoCreate made it). */
  const count = async (target: "mariadb" | "postgres", database: string, table: string): Promise<number> => {
    try {
      if (target === "mariadb") return Number(((await mariadbTarget.query(`SELECT COUNT(*) AS n FROM \`${table}\``))[0] as { n: number }[])[0]!.n);
      return Number((await pg[database]!.query<{ n: string }>(`SELECT count(*) AS n FROM "${table}"`)).rows[0]!.n);
    } catch {
      return 0;
    }
  };

  /** The rows a sink sent to its dead-letter topic, as "<table> <id> <error code>". */
  const deadLetters = async (name: string, expected: number): Promise<string[]> => {
    if (expected === 0) return [];
    const raw = rawReader(daemon!.adminUrl);
    const out: string[] = [];
    for (const m of await readTopic(harness().kafka.brokers, `_liberator_dlq.${name}`, { expect: expected, timeoutMs: 120_000 })) {
      const after = await raw.after(m.value);
      const header = (h: string) => String(m.headers[h] ?? "");
      out.push(`${header("liberator.original.topic").split(".").pop()} ${after ? Number(after.id!.value) : "?"} ${header("liberator.error.code")}`);
    }
    return out.sort();
  };

  it("writes every MariaDB value into a MariaDB target as the source holds it, but the ENUM error value '', which a strict target refuses, into the dead-letter topic", async () => {
    const sources = new Map<string, Rows>();
    for (const [table, columns] of MARIADB) sources.set(table, await mariadbRows(mariadbReader, table, columns));
    // a bad label written outside strict mode is stored as '' (index 0): no label of the column, so
    // the sink's strict session refuses it (a data error), never writes another label
    const refused = new Set([...sources.get("texts")!].filter(([, row]) => row.e === "").map(([id]) => id));
    const expected = [...refused].map((id) => `texts ${id} SINK_ROW_REFUSED`).sort();
    expect(await deadLetters(sinks.mariadb, expected.length), "the rows with the ENUM value '', and only those, are refused as data errors").toEqual(expected);
    for (const [table, columns] of MARIADB) {
      const source = sources.get(table)!;
      const none = table === "texts" ? refused : new Set<number>();
      await waitFor(async () => (await count("mariadb", targets.mariadb, table)) >= source.size - none.size, { timeoutMs: 300_000, intervalMs: 2000, message: `${table} in the MariaDB target` });
      const found = differences(table, columns, source, await mariadbRows(mariadbTarget, table, columns), none);
      expect(found.slice(0, 40), `${found.length} values differ`).toEqual([]);
    }
    // autoCreate gave the ENUM and SET their exact labels (a comma kept, a 4-byte character not '?')
    const labelled = async (conn: Connection, database: string) => (await describeMysqlTable(conn, database, "texts")).columns.filter((c) => /^(enum|set)\(/.test(c.sqlType)).map((c) => c.sqlType);
    const sourceLabels = await labelled(mariadbReader, mariadbSource.name);
    expect(sourceLabels.join(" ")).toContain("'😀'");
    expect(await labelled(mariadbTarget, targets.mariadb)).toEqual(sourceLabels);
  }, 400_000);

  it("writes every MariaDB value into a PostgreSQL target as the source holds it, and refuses each row with a NUL, which PostgreSQL's text cannot hold, into the dead-letter topic", async () => {
    const sources = new Map<string, Rows>();
    const nul = new Map<string, Set<number>>();
    for (const [table, columns] of MARIADB) {
      const source = await mariadbRows(mariadbReader, table, columns);
      sources.set(table, source);
      // a NUL byte at a character boundary of a text column's UTF-8 (the server renders text as HEX)
      nul.set(table, new Set([...source].filter(([, row]) => columns.some((c) => c.kind === "text" && c.ddl !== "JSON" && /^(?:[0-9A-F]{2})*?00/.test((row[c.name] as string | null) ?? ""))).map(([id]) => id)));
    }
    const expected = [...nul].flatMap(([table, ids]) => [...ids].map((id) => `${table} ${id} SINK_ROW_REFUSED`)).sort();
    expect(expected.length, "the edges hold NUL characters").toBeGreaterThan(0);
    expect(await deadLetters(sinks.pgFromMariadb, expected.length), "the rows with a NUL, and only those, are refused as data errors").toEqual(expected);
    for (const [table, columns] of MARIADB) {
      const source = sources.get(table)!;
      const refused = nul.get(table)!;
      await waitFor(async () => (await count("postgres", targets.pgFromMariadb, table)) >= source.size - refused.size, { timeoutMs: 300_000, intervalMs: 2000, message: `${table} in the PostgreSQL target` });
      const { rows } = await pg[targets.pgFromMariadb]!.query<Record<string, unknown>>(`SELECT id, ${columns.map((c) => `${pgOfMariadb(c).sql} AS "${c.name}"`).join(", ")} FROM "${table}"`);
      const target: Rows = new Map(rows.map((row) => [Number(row.id), Object.fromEntries(columns.map((c) => [c.name, row[c.name] === null ? null : pgOfMariadb(c).value(row[c.name])]))]));
      const found = differences(table, columns, source, target, refused);
      expect(found.slice(0, 40), `${found.length} values differ`).toEqual([]);
    }
  }, 400_000);

  it("writes every PostgreSQL value into a PostgreSQL target as the source holds it", async () => {
    for (const [table, columns] of POSTGRES) {
      await waitFor(async () => (await count("postgres", targets.pgFromPg, table)) >= written.get(`postgres.${table}`)!, { timeoutMs: 300_000, intervalMs: 2000, message: `${table} in the PostgreSQL target` });
      const found = differences(table, columns, await pgRows(pg[pgSource]!, table, columns), await pgRows(pg[targets.pgFromPg]!, table, columns), new Set());
      expect(found.slice(0, 40), `${found.length} values differ`).toEqual([]);
    }
  }, 400_000);
});
