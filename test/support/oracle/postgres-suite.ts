/**
 * The PostgreSQL oracle as a suite any source path runs: seeded values of every PostgreSQL type of
 * the mapping table (postgres.ts), written before the connector starts and while it runs, read
 * back from Kafka without Liberator's code and compared with the server's own rendering; then
 * Apache Avro's Java library reads every topic alike. A source path gives its connector entry (and
 * any set-up it needs, a publication say); replay a failure with ORACLE_SEED=<seed>.
 */
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PG_READ_OPTIONS } from "../../../src/runtime/db/postgres.js";
import { createDatabase, dropDatabase, harness, pgClient, readTopic } from "../../harness/index.js";
import { startDaemon, type Daemon } from "../daemon.js";
import { judgeTopics } from "../java-avro.js";
import { rawReader } from "./avro.js";
import { compareTable } from "./compare.js";
import { PG_PREAMBLE, PG_TABLES, pgNormalizeServer, pgRenderDelivered, pgServerExpression, type PgColumn } from "./postgres.js";
import { oracleSeed, random } from "./random.js";
import { insertStatements, literalRows, type LiteralRow } from "./rows.js";
import { oracleConnectorName } from "./topics.js";

export interface PostgresOraclePath {
  /** Names the path in test titles and topics ("query", "pgoutput"…). */
  path: string;
  /** The connector entry of connectors.yaml that captures `tables` of `database` (schema public). */
  connector(name: string, database: string, tables: string[]): Record<string, unknown>;
  /** The topic of a table; `<name>.public.<table>` unless given. */
  topic?(name: string, table: string): string;
  /** After the tables exist and before any row is written (a publication, replica identity…). */
  prepare?(client: pg.Client, tables: string[]): Promise<void>;
  /** Once the daemon runs, until the connector captures what is written next. */
  ready?(daemon: Daemon, name: string): Promise<void>;
  /** Drops the scratch database (a path that leaves replication slots in it drops them first). */
  dropDatabase?(database: string): Promise<void>;
  /** Generated values per column written before the start and while running; at least 2,000 in all. */
  generated?: { before: number; after: number };
}

const AFTER_FIRST_ID = 1_000_001;
const TABLES = Object.entries(PG_TABLES);

export function describePostgresOracle(options: PostgresOraclePath): void {
  const SEED = oracleSeed();
  const generated = options.generated ?? { before: 1000, after: 1000 };
  describe(`PostgreSQL values through the ${options.path} source, judged by the server (seed ${SEED})`, () => {
    let database: string;
    let writer: pg.Client;
    let reader: pg.Client;
    let daemon: Daemon | undefined;
    const name = oracleConnectorName(options.path);
    const written = new Map<string, { before: LiteralRow[]; after: LiteralRow[] }>();
    const topic = (table: string) => options.topic?.(name, table) ?? `${name}.public.${table}`;
    const write = async (table: string, columns: PgColumn[], rows: LiteralRow[]) => {
      for (const sql of insertStatements(table, columns, rows, (n) => `"${n}"`, 100)) await writer.query(sql);
    };

    beforeAll(async () => {
      console.log(`oracle seed ${SEED} (replay: ORACLE_SEED=${SEED})`);
      const r = random(SEED);
      database = await createDatabase("postgres");
      writer = await pgClient(harness(), database);
      for (const sql of PG_PREAMBLE) await writer.query(sql);
      for (const [table, columns] of TABLES) {
        await writer.query(`CREATE TABLE "${table}" (id integer PRIMARY KEY, ${columns.map((c) => `"${c.name}" ${c.ddl}`).join(", ")})`);
        written.set(table, { before: literalRows(r, columns, 1, generated.before), after: literalRows(r, columns, AFTER_FIRST_ID, generated.after) });
      }
      await options.prepare?.(writer, TABLES.map(([t]) => t));
      for (const [table, columns] of TABLES) await write(table, columns, written.get(table)!.before);
      daemon = await startDaemon({ connectors: [options.connector(name, database, TABLES.map(([t]) => t))] });
      await (options.ready ? options.ready(daemon, name) : daemon.waitReady(120_000));
      for (const [table, columns] of TABLES) await write(table, columns, written.get(table)!.after);
      reader = await pgClient(harness(), database, { ...PG_READ_OPTIONS });
    }, 300_000);

    afterAll(async () => {
      await daemon?.stop();
      await reader?.end();
      await writer?.end();
      if (database) await (options.dropDatabase ? options.dropDatabase(database) : dropDatabase("postgres", database));
    });

    for (const [table, columns] of TABLES) {
      it(`delivers every value of table ${table} as the server holds it`, async () => {
        const rows = written.get(table)!;
        const expected = rows.before.length + rows.after.length;
        const messages = await readTopic(harness().kafka.brokers, topic(table), { expect: expected, timeoutMs: 180_000 });
        const select = columns.map((c) => `${pgServerExpression(c)} AS "${c.name}"`);
        const floats = columns.filter((c) => c.kind === "float4" || c.kind === "float8").map((c) => `"${c.name}"::text AS "${c.name}__text"`);
        const { rows: server } = await reader.query<Record<string, unknown>>(`SELECT id, ${[...select, ...floats].join(", ")} FROM "${table}"`);
        const { failures, compared, ids } = await compareTable({
          seed: SEED,
          table,
          columns,
          messages,
          raw: rawReader(daemon!.adminUrl),
          rows: new Map(server.map((row) => [Number(row.id), row])),
          pathOf: (id) => (id >= AFTER_FIRST_ID ? "written while running" : "written before the start"),
          render: {
            server: (c, row) => pgNormalizeServer(c, row[c.name]),
            delivered: pgRenderDelivered,
            note: (c, row) => (row[`${c.name}__text`] !== undefined ? ` (server text ${String(row[`${c.name}__text`])})` : ""),
          },
        });
        expect(failures.slice(0, 40), `${failures.length} values differ`).toEqual([]);
        expect(ids.size, "every row written arrives once").toBe(expected);
        expect(messages.filter((m) => m.value !== null)).toHaveLength(expected);
        for (const c of columns) expect(compared.get(c.name)!, c.name).toBeGreaterThanOrEqual(generated.before + generated.after);
      });
    }

    it("is read alike by Apache Avro's Java library, every schema and value, with no error", async () => {
      const judged = await judgeTopics(daemon!.adminUrl, TABLES.map(([table]) => topic(table)));
      expect(judged.errors).toEqual([]);
      expect(judged.differences.slice(0, 20)).toEqual([]);
      expect(judged.records).toBe(TABLES.reduce((n, [table]) => n + written.get(table)!.before.length + written.get(table)!.after.length, 0));
    }, 600_000);
  });
}

