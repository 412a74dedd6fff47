import type { Connection } from "mysql2/promise";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MYSQL_READ_OPTIONS, MYSQL_SESSION_SQL, selectExact } from "../../../src/runtime/db/mysql.js";
import { harness, mysqlConnection, readTopic } from "../../harness/index.js";
import { startDaemon, type Daemon } from "../../support/daemon.js";
import { judgeTopics } from "../../support/java-avro.js";
import { rawReader } from "../../support/oracle/avro.js";
import { MARIADB_TABLES, normalizeServer, renderDelivered, serverExpression, type OracleColumn } from "../../support/oracle/mariadb.js";
import { insertStatements, literalRows, type LiteralRow } from "../../support/oracle/rows.js";
import { oracleSeed, random } from "../../support/oracle/random.js";
import { oracleConnectorName } from "../../support/oracle/topics.js";
import { compareTable } from "../../support/oracle/compare.js";
import { binlogConnector, scratchDatabase, untilStreaming } from "../binlog/support.js";

/*
 * The database as the oracle (issue 15): seeded values of every MariaDB type of the mapping table,
 * edges first, through the binlog source's snapshot (rows there before it starts) and its stream
 * (rows written while it streams), decoded from Kafka without Liberator's code, each compared with
 * the server's own rendering of the value it holds. Zero and partial-zero dates are read as null
 * (zeroDates and partialZeroDates: null). Apache Avro's Java library must read every topic alike.
 * Replay a failure with ORACLE_SEED=<seed>.
 */
const SEED = oracleSeed();
const STREAM_FIRST_ID = 1_000_001;
const TABLES = Object.entries(MARIADB_TABLES);

describe(`MariaDB values through the binlog source, judged by the server (seed ${SEED})`, () => {
  const db = scratchDatabase();
  let daemon: Daemon | undefined;
  let reader: Connection;
  const name = oracleConnectorName("binlog");
  const written = new Map<string, { snapshot: LiteralRow[]; stream: LiteralRow[] }>();
  const topic = (table: string) => `${name}.${db.name}.${table}`;

  const write = async (table: string, columns: OracleColumn[], rows: LiteralRow[]) => {
    for (const sql of insertStatements(table, columns, rows, (n) => `\`${n}\``)) await db.conn.query(sql);
  };

  beforeAll(async () => {
    console.log(`oracle seed ${SEED} (replay: ORACLE_SEED=${SEED})`);
    const r = random(SEED);
    // zero dates, bad ENUM values; TIMESTAMPs written in a zone that is not UTC
    await db.conn.query("SET sql_mode = '', time_zone = '+05:30'");
    for (const [table, columns] of TABLES) {
      await db.conn.query(`CREATE TABLE \`${table}\` (id INT PRIMARY KEY, ${columns.map((c) => `\`${c.name}\` ${c.ddl}`).join(", ")}) DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`);
      written.set(table, { snapshot: literalRows(r, columns, 1), stream: literalRows(r, columns, STREAM_FIRST_ID) });
      await write(table, columns, written.get(table)!.snapshot);
    }
    daemon = await startDaemon({ connectors: [binlogConnector(name, db.name, { zeroDates: null, partialZeroDates: null })] });
    await untilStreaming(daemon, name, 180_000);
    for (const [table, columns] of TABLES) await write(table, columns, written.get(table)!.stream);
    reader = await mysqlConnection(harness(), db.name, { ...MYSQL_READ_OPTIONS });
    await reader.query(MYSQL_SESSION_SQL);
  }, 400_000);

  afterAll(async () => {
    await daemon?.stop();
    await reader?.end();
  });

  /** The source table as the server renders it, by id (FLOAT and DOUBLE read through the binary protocol). */
  const sourceRows = async (table: string, columns: OracleColumn[], conn: Connection = reader) => {
    const select = columns.map((c) => `${serverExpression(c)} AS \`${c.name}\``);
    const texts = columns.filter((c) => c.kind === "float" || c.kind === "double").map((c) => `CAST(\`${c.name}\` AS CHAR) AS \`${c.name}__text\``);
    const { rows } = await selectExact(conn, `SELECT id, ${[...select, ...texts].join(", ")} FROM \`${table}\``);
    return new Map(rows.map((row) => [Number(row.id), row]));
  };

  for (const [table, columns] of TABLES) {
    it(`delivers every value of table ${table} as the server holds it, through the snapshot and the stream`, async () => {
      const rows = written.get(table)!;
      const expected = rows.snapshot.length + rows.stream.length;
      const messages = await readTopic(harness().kafka.brokers, topic(table), { expect: expected, timeoutMs: 180_000 });
      const raw = rawReader(`${daemon!.adminUrl}`);

      const { failures, compared, ids } = await compareTable({
        seed: SEED,
        table,
        columns,
        messages,
        raw,
        rows: await sourceRows(table, columns),
        pathOf: (id) => (id >= STREAM_FIRST_ID ? "stream" : "snapshot"),
        render: {
          server: (c, row) => normalizeServer(c, row[c.name]),
          delivered: renderDelivered,
          same: (c, got, want) => (c.kind === "float" || c.kind === "double" ? Object.is(got, want) : got === want),
          note: (c, row) => (row[`${c.name}__text`] !== undefined ? ` (server text ${String(row[`${c.name}__text`])})` : ""),
        },
      });
      expect(failures.slice(0, 40), `${failures.length} values differ`).toEqual([]);
      expect(ids.size, "every row written arrives once").toBe(expected);
      expect(messages.filter((m) => m.value !== null)).toHaveLength(expected);
      // the edges and 2,000 generated values per path, less the zero dates read as null
      for (const c of columns) expect(compared.get(c.name)!, c.name).toBeGreaterThanOrEqual(4000);
    });
  }

  it("is read alike by Apache Avro's Java library, every schema and value, with no error", async () => {
    const judged = await judgeTopics(daemon!.adminUrl, TABLES.map(([table]) => topic(table)));
    expect(judged.errors).toEqual([]);
    expect(judged.differences.slice(0, 20)).toEqual([]);
    expect(judged.records).toBe(TABLES.reduce((n, [table]) => n + written.get(table)!.snapshot.length + written.get(table)!.stream.length, 0));
  }, 600_000);
});
