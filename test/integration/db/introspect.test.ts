import type { Connection } from "mysql2/promise";
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { classifyMysqlError } from "../../../src/runtime/db/errors.js";
import {
  describeMysqlTable,
  describePgTable,
  describePgTypes,
  estimateMysqlTable,
  estimatePgTable,
  listKeylessMysqlTables,
  listMysqlTables,
  listPgTables,
  mysqlIndexes,
  pgIndexes,
} from "../../../src/runtime/db/introspect.js";
import { MYSQL_READ_OPTIONS } from "../../../src/runtime/db/mysql.js";
import { PG_READ_OPTIONS } from "../../../src/runtime/db/postgres.js";
import { parseSqlType, quoteMysqlLabels } from "../../../src/runtime/sql-types/mapping.js";
import { createDatabase, dropDatabase, harness, mysqlConnection, pgClient } from "../../harness/index.js";

const ROWS = 50;

describe("the database layer reads MySQL/MariaDB's catalogue", () => {
  let database: string;
  let conn: Connection;

  beforeAll(async () => {
    database = await createDatabase("mariadb");
    conn = await mysqlConnection(harness(), database, { ...MYSQL_READ_OPTIONS });
    await conn.query(`
      CREATE TABLE keyed (id int PRIMARY KEY, a int, b varchar(10), UNIQUE KEY u_ab (a, b), KEY k_b (b));
      CREATE TABLE keyless (x int);
      CREATE VIEW keyed_view AS SELECT id FROM keyed;`);
    await conn.query(`INSERT INTO keyed (id, a, b) VALUES ${Array.from({ length: ROWS }, (_, i) => `(${i}, ${i}, 'row ${i}')`).join(", ")}`);
    await conn.query("ANALYZE TABLE keyed");
  });

  afterAll(async () => {
    await conn?.end();
    if (database) await dropDatabase("mariadb", database);
  });

  it("lists every index with its columns in index order, the primary key and unique ones marked", async () => {
    const indexes = await mysqlIndexes(conn, database, "keyed");
    expect(indexes.sort((x, y) => (x.name < y.name ? -1 : 1))).toEqual([
      { name: "PRIMARY", primary: true, unique: true, columns: ["id"] },
      { name: "k_b", primary: false, unique: false, columns: ["b"] },
      { name: "u_ab", primary: false, unique: true, columns: ["a", "b"] },
    ]);
    expect(await mysqlIndexes(conn, database, "keyless")).toEqual([]);
  });

  it("lists base tables of user databases only, and those without a primary key", async () => {
    const tables = await listMysqlTables(conn);
    expect(tables.filter((t) => t.schema === database)).toEqual([
      { schema: database, table: "keyed" },
      { schema: database, table: "keyless" },
    ]);
    expect(tables.some((t) => ["mysql", "information_schema", "performance_schema", "sys"].includes(t.schema))).toBe(false);
    const keyless = (await listKeylessMysqlTables(conn)).filter((t) => t.schema === database);
    expect(keyless).toEqual([{ schema: database, table: "keyless" }]);
  });

  it("estimates a table's rows and row width from its statistics", async () => {
    const estimate = await estimateMysqlTable(conn, database, "keyed");
    expect(estimate.rows).toBeGreaterThan(0);
    expect(estimate.rowBytes).toBeGreaterThan(0);
    expect(await estimateMysqlTable(conn, database, "no_such_table")).toEqual({ rows: 0, rowBytes: 0 });
  });

  it("describes a table's key as its primary index says", async () => {
    const described = await describeMysqlTable(conn, database, "keyed");
    const primary = (await mysqlIndexes(conn, database, "keyed")).find((i) => i.primary);
    expect(described.primaryKey).toEqual(primary?.columns);
  });

  it("reads ENUM and SET labels exactly, though information_schema shows their 4-byte characters as '?', with SELECT alone and reading no row", async () => {
    const enumLabels = ["😀", "a,b", "?", "it's", "back\\slash", "line\nbreak", "𠜎 x"];
    const setLabels = ["𝄞", "y", "?"];
    await conn.query(`CREATE TABLE labels (id int PRIMARY KEY, e ENUM(${quoteMysqlLabels(enumLabels)}) NOT NULL, s SET(${quoteMysqlLabels(setLabels)}), big ENUM(${quoteMysqlLabels(Array.from({ length: 1500 }, (_, i) => `${i}🙂`))})) DEFAULT CHARSET=utf8mb4`);
    const [shown] = await conn.query("SELECT COLUMN_TYPE AS t FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = 'labels' AND COLUMN_NAME = 'e'", [database]);
    expect((shown as { t: string }[])[0]!.t, "the server's own spelling loses the 4-byte characters").toContain("'?','a,b','?'");
    const user = `labels_${process.pid}`;
    await conn.query(`CREATE USER '${user}'@'%' IDENTIFIED BY 'pw'`);
    await conn.query(`GRANT SELECT ON \`${database}\`.\`labels\` TO '${user}'@'%'`);
    const reader = await mysqlConnection(harness(), database, { ...MYSQL_READ_OPTIONS, user, password: "pw" });
    try {
      const columns = (await describeMysqlTable(reader, database, "labels")).columns;
      expect(parseSqlType(columns[1]!.sqlType, "mysql").args).toEqual(enumLabels);
      expect(parseSqlType(columns[2]!.sqlType, "mysql").args).toEqual(setLabels);
      expect(parseSqlType(columns[3]!.sqlType, "mysql").args).toEqual(Array.from({ length: 1500 }, (_, i) => `${i}🙂`));
    } finally {
      await reader.end();
      await conn.query(`DROP USER '${user}'@'%'`);
    }
  });

  it("classifies an information_schema table the server lacks as a missing table", async () => {
    const err = await conn.query("SELECT 1 FROM information_schema.NO_SUCH_PLUGIN_TABLE LIMIT 0").catch((e: unknown) => e);
    expect(classifyMysqlError(err)).toBe("table-missing");
  });
});

describe("the database layer reads PostgreSQL's catalogue", () => {
  let database: string;
  let client: pg.Client;

  beforeAll(async () => {
    database = await createDatabase("postgres");
    client = await pgClient(harness(), database, PG_READ_OPTIONS);
    await client.query(`
      CREATE TYPE mood AS ENUM ('sad', 'it''s ok');
      CREATE DOMAIN amount AS numeric(12, 2) CHECK (VALUE >= 0);
      CREATE TABLE keyed (id int PRIMARY KEY, a int, b text, m mood, ms mood[], v amount, ts timestamp(3), UNIQUE (a, b));
      CREATE UNIQUE INDEX partial_b ON keyed (b) WHERE a > 0;
      CREATE INDEX k_b ON keyed (b);
      CREATE SCHEMA "Other";
      CREATE TABLE "Other".parted (id int, at date) PARTITION BY RANGE (at);
      CREATE TABLE "Other".parted_2020 PARTITION OF "Other".parted FOR VALUES FROM ('2020-01-01') TO ('2021-01-01');
      CREATE VIEW keyed_view AS SELECT id FROM keyed;`);
    await client.query(`INSERT INTO keyed (id, a, b) SELECT i, i, 'row ' || i FROM generate_series(1, ${ROWS}) AS i`);
    await client.query("ANALYZE keyed");
  });

  afterAll(async () => {
    await client?.end();
    if (database) await dropDatabase("postgres", database);
  });

  it("lists every index; a partial unique index is not unique over every row", async () => {
    const indexes = await pgIndexes(client, "public", "keyed");
    expect(indexes.sort((x, y) => (x.name < y.name ? -1 : 1))).toEqual([
      { name: "k_b", primary: false, unique: false, columns: ["b"] },
      { name: "keyed_a_b_key", primary: false, unique: true, columns: ["a", "b"] },
      { name: "keyed_pkey", primary: true, unique: true, columns: ["id"] },
      { name: "partial_b", primary: false, unique: false, columns: ["b"] },
    ]);
  });

  it("lists user tables, a partitioned table once and no view", async () => {
    expect(await listPgTables(client)).toEqual([
      { schema: "Other", table: "parted" },
      { schema: "public", table: "keyed" },
    ]);
  });

  it("estimates a table's rows from its statistics", async () => {
    expect((await estimatePgTable(client, "public", "keyed")).rows).toBe(ROWS);
    expect((await estimatePgTable(client, "public", "no_such_table")).rows).toBe(0);
  });

  it("names a result column's type as the table's description names the column (domains as their base, enum labels)", async () => {
    const table = await describePgTable(client, "public", "keyed");
    const result = await client.query("SELECT * FROM keyed LIMIT 0");
    const types = await describePgTypes(client, result.fields.map((f) => ({ oid: f.dataTypeID, typmod: f.dataTypeModifier })));
    expect(types).toEqual(table.columns.map((c) => ({ sqlType: c.sqlType, enumValues: c.enumValues })));
    expect(types.find((t) => t.sqlType === "mood")?.enumValues).toEqual(["sad", "it's ok"]);
  });
});
