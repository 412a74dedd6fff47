import type { Connection, RowDataPacket } from "mysql2/promise";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tableStream, type TableStream } from "../../../src/runtime/sql-types/envelope.js";
import { describeMysqlTable } from "../../../src/runtime/db/introspect.js";
import { avroToSqlType, toSqlParam } from "../../../src/runtime/sql-types/to-sql.js";
import { MYSQL_READ_OPTIONS, MYSQL_SESSION_SQL } from "../../../src/runtime/db/mysql.js";
import { createDatabase, dropDatabase, harness, mysqlConnection, uniqueName } from "../../harness/index.js";
import { DEC_MAX, EVERY_BYTE, TORTURE_DDL } from "../../support/torture-mariadb.js";
import { judgeWithEmbeddedRegistry } from "../../support/java-avro.js";
import { throughKafka } from "./round-trip.js";

const ROWS = [
  {
    id: 1, dec65: DEC_MAX, dec_small: "99999999.99", dec_plain: "9999999999", big_u: "18446744073709551615", big_s: "9223372036854775807",
    int_u: 4294967295, int_s: 2147483647, tiny: 127, tiny1: 1, small_u: 65535, medium: 8388607,
    flt: 3.4028234663852886e38, dbl: 1.7976931348623157e308,
    dt: "9999-12-31 23:59:59.999999", dt0: "9999-12-31 23:59:59", ts: "2038-01-19 03:14:07.999999", d: "9999-12-31", t: "838:59:59.000000", y: 2155,
    ch: "abc", vc: "😀 𝄞 𠜎 ünïcödé ∑ 🏳️‍🌈", txt: "x".repeat(1000) + "🙂", mtxt: "日本語テキスト\u0000with NUL",
    bin: Buffer.from([0xff, 0xff, 0xff, 0xff]), vbin: EVERY_BYTE, blb: Buffer.concat([EVERY_BYTE, Buffer.from(EVERY_BYTE).reverse()]), lblb: Buffer.alloc(100_000, 0xab),
    j: '{"name": "Zoë 😀", "nested": {"list": [1, 2.5, -3e10, null, true, "𠜎"], "empty": {}}, "esc": "quote\\" back\\\\"}',
    e: "x-large", s: "a,b,c,d", bit1: Buffer.from([1]), bit64: Buffer.alloc(8, 0xff), bit10: Buffer.from([0x03, 0xff]),
    u: "ffffffff-ffff-ffff-ffff-ffffffffffff", ip4: "255.255.255.255", ip6: "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", req: "max",
  },
  {
    id: 2, dec65: `-${DEC_MAX}`, dec_small: "-99999999.99", dec_plain: "-9999999999", big_u: "0", big_s: "-9223372036854775808",
    int_u: 0, int_s: -2147483648, tiny: -128, tiny1: -128, small_u: 0, medium: -8388608,
    flt: -3.4028234663852886e38, dbl: -1.7976931348623157e308,
    dt: "1000-01-01 00:00:00.000000", dt0: "1000-01-01 00:00:00", ts: "1970-01-01 00:00:01.000000", d: "1000-01-01", t: "-838:59:59.000000", y: 1901,
    ch: "", vc: "", txt: "", mtxt: "",
    bin: Buffer.alloc(4), vbin: Buffer.alloc(0), blb: Buffer.alloc(0), lblb: Buffer.alloc(0),
    j: "[]", e: "small", s: "", bit1: Buffer.from([0]), bit64: Buffer.alloc(8), bit10: Buffer.alloc(2),
    u: "00000000-0000-0000-0000-000000000000", ip4: "0.0.0.0", ip6: "::", req: "min",
  },
  {
    id: 3, dec65: "0.000000000000000000000000000001", dec_small: "-0.01", dec_plain: "0", big_u: "9007199254740993", big_s: "-9007199254740993",
    int_u: 1, int_s: 0, tiny: 0, tiny1: 0, small_u: 1, medium: 0,
    flt: 1.1754943508222875e-38, dbl: 5e-324,
    dt: "2024-02-29 23:59:59.123456", dt0: "2024-02-29 00:00:00", ts: "1970-01-01 00:00:01.000001", d: "2024-02-29", t: "-00:00:00.000001", y: 2000,
    ch: "It's", vc: "tab\tnew\nline\\slash", txt: "\u{1F600}".repeat(100), mtxt: "'",
    bin: Buffer.from([0, 1, 2, 3]), vbin: Buffer.from([0]), blb: EVERY_BYTE, lblb: EVERY_BYTE,
    j: '"just a string \\u00e9"', e: "it's", s: "b,d", bit1: Buffer.from([1]), bit64: Buffer.from("8000000000000001", "hex"), bit10: Buffer.from([0x02, 0x00]),
    u: "123e4567-e89b-12d3-a456-426614174000", ip4: "10.0.0.1", ip6: "::ffff:1.2.3.4", req: "tiny",
  },
  {
    id: 4, dec65: "1.5", dec_small: "0.10", dec_plain: "1", big_u: "1", big_s: "1", int_u: 2, int_s: 1, tiny: 1, tiny1: 1, small_u: 2, medium: 1,
    flt: 0.1, dbl: 0.1, dt: "1970-01-01 00:00:00.000000", dt0: "2038-01-19 03:14:08", ts: "2038-01-19 03:14:07.000000", d: "1970-01-01", t: "00:00:00.000000", y: 1970,
    ch: "ten chars!", vc: "x", txt: "y", mtxt: "z", bin: Buffer.from("abcd"), vbin: Buffer.from("€"), blb: Buffer.from([0xff]), lblb: Buffer.from([0x00]),
    j: "{}", e: "medium", s: "a", bit1: Buffer.from([0]), bit64: Buffer.from("0000000000000001", "hex"), bit10: Buffer.from([0x00, 0x01]),
    u: "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", ip4: "192.168.1.1", ip6: "2001:db8::1", req: "2038",
  },
];
const NULL_ROW_ID = 5;

describe("a MariaDB torture table, read, encoded, sent through Kafka and decoded", () => {
  let database: string;
  let conn: Connection;
  let stream: TableStream;
  let canonical: Record<string, unknown>[];
  let decoded: Record<string, unknown>[];
  const schemas = uniqueName("schemas");

  beforeAll(async () => {
    database = await createDatabase("mariadb");
    conn = await mysqlConnection(harness(), database, { ...MYSQL_READ_OPTIONS });
    await conn.query(MYSQL_SESSION_SQL);
    await conn.query(TORTURE_DDL);
    const columns = Object.keys(ROWS[0]!);
    for (const row of ROWS) await conn.query(`INSERT INTO torture (${columns.join(",")}) VALUES (?)`, [columns.map((c) => (row as Record<string, unknown>)[c])]);
    await conn.query("INSERT INTO torture (id) VALUES (?)", [NULL_ROW_ID]);

    const table = await describeMysqlTable(conn, database, "torture");
    stream = tableStream(table, { topic: uniqueName("torture_mariadb") });
    const select = stream.columns.map((c) => `${c.select(`\`${c.column}\``)} AS \`${c.column}\``).join(", ");
    const [rows] = await conn.query<RowDataPacket[]>(`SELECT ${select} FROM torture ORDER BY id`);
    canonical = rows.map((r) => stream.row(r));
    decoded = await throughKafka(stream, canonical, schemas);
  });

  afterAll(async () => {
    await conn?.end();
    if (database) await dropDatabase("mariadb", database);
  });

  it("reads every column type of the mapping", () => {
    expect(stream.columns.map((c) => [c.column, c.rule.avro])).toContainEqual(["j", "string, connect.name io.debezium.data.Json"]);
    expect(stream.columns.find((c) => c.column === "req")!.field).toMatchObject({ name: "req", default: "x" });
    expect(stream.columns.filter((c) => c.column !== "id" && c.column !== "req").every((c) => Array.isArray(c.field.type))).toBe(true);
  });

  it("gives back every value exactly as it was read", () => {
    expect(decoded).toEqual(canonical);
    expect(decoded.length).toBe(ROWS.length + 1);
  });

  it("is read alike by Apache Avro's Java library, every schema valid Avro 1.12 and every logical value what the specification says", async () => {
    const judged = await judgeWithEmbeddedRegistry(schemas, [stream.topic]);
    expect(judged.errors).toEqual([]);
    expect(judged.differences).toEqual([]);
    expect(judged).toMatchObject({ records: ROWS.length + 1, schemas: 2 });
  });

  it("keeps the edge values the issue names, in their canonical form", () => {
    const [max, min, tiny] = decoded;
    expect(max).toMatchObject({
      dec65: DEC_MAX,
      big_u: "18446744073709551615",
      big_s: 9223372036854775807n,
      dt: "9999-12-31T23:59:59.999999",
      ts: "2038-01-19T03:14:07.999999Z",
      t: "838:59:59.000000",
      vc: "😀 𝄞 𠜎 ünïcödé ∑ 🏳️‍🌈",
      vbin: EVERY_BYTE,
      bit64: Buffer.alloc(8, 0xff),
      bit1: true,
      flt: 3.4028234663852886e38,
      dbl: 1.7976931348623157e308,
      e: "x-large",
      s: ["a", "b", "c", "d"],
      u: "ffffffff-ffff-ffff-ffff-ffffffffffff",
    });
    expect(min).toMatchObject({ dec65: `-${DEC_MAX}`, dt: "1000-01-01T00:00:00.000000", ts: "1970-01-01T00:00:01.000000Z", t: "-838:59:59.000000", s: [], big_s: -9223372036854775808n });
    expect(tiny).toMatchObject({ dbl: 5e-324, flt: 1.1754943508222875e-38, ts: "1970-01-01T00:00:01.000001Z", ip6: "::ffff:1.2.3.4", big_u: "9007199254740993" });
    expect(JSON.parse(max!.j as string)).toEqual({ name: "Zoë 😀", nested: { list: [1, 2.5, -3e10, null, true, "𠜎"], empty: {} }, esc: 'quote" back\\' });
  });

  it("has NULL in every nullable column of the null row", () => {
    const nulls = decoded[NULL_ROW_ID - 1]!;
    for (const c of stream.columns) if (c.column !== "id" && c.column !== "req") expect(nulls[c.field.name], c.column).toBe(null);
    expect(nulls.req).toBe("x");
  });

  it("writes the decoded values back into a table it creates from the Avro fields, equal column by column", async () => {
    const columns = stream.columns.map((c) => `\`${c.column}\` ${avroToSqlType(c.field, "mysql")}`);
    await conn.query(`CREATE TABLE copy (${columns.join(", ")}, PRIMARY KEY (id)) DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`);
    for (const row of decoded) {
      await conn.query("INSERT INTO copy VALUES (?)", [stream.columns.map((c) => toSqlParam(row[c.field.name], c.field, "mysql"))]);
    }
    const [originalTypes] = await conn.query<RowDataPacket[]>(
      "SELECT COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION",
      [database, "torture"],
    );
    const [copyTypes] = await conn.query<RowDataPacket[]>(
      "SELECT COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION",
      [database, "copy"],
    );
    expect(copyTypes).toEqual(originalTypes);
    for (const c of stream.columns) {
      const [[{ differ }]] = (await conn.query<RowDataPacket[]>(
        `SELECT COUNT(*) AS differ FROM torture t JOIN copy c USING (id) WHERE NOT (t.\`${c.column}\` <=> c.\`${c.column}\`)`,
      )) as unknown as [[{ differ: number }]];
      expect(Number(differ), c.column).toBe(0);
    }
  });
});
