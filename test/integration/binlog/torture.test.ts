import type { Connection } from "mysql2/promise";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ChangeRecord, Source } from "../../../src/runtime/connector.js";
import { assertEncodable } from "../../acceptance/avro.js";
import { readRecords } from "../../acceptance/source-suite.js";
import { createDatabase, dropDatabase, harness, mysqlConnection, uniqueName } from "../../harness/index.js";
import { judgeWithEmbeddedRegistry } from "../../support/java-avro.js";
import { DEC_MAX, EVERY_BYTE, TORTURE_DDL } from "../../support/torture-mariadb.js";
import { kafkaClient, produce, schemaService } from "../sql-types/round-trip.js";
import { binlogSource, keyString, tableRows } from "./support.js";

const MAX = {
  dec65: DEC_MAX, dec_small: "99999999.99", dec_plain: "9999999999", big_u: "18446744073709551615", big_s: "9223372036854775807",
  int_u: 4294967295, int_s: 2147483647, tiny: 127, tiny1: 1, small_u: 65535, medium: 8388607,
  flt: 3.4028234663852886e38, dbl: 1.7976931348623157e308,
  dt: "9999-12-31 23:59:59.999999", dt0: "9999-12-31 23:59:59", ts: "2038-01-19 08:44:07.999999", d: "9999-12-31", t: "838:59:59.000000", y: 2155,
  ch: "abc", vc: "😀 𝄞 𠜎 ünïcödé ∑ 🏳️‍🌈", txt: "x".repeat(1000) + "🙂", mtxt: "日本語テキスト\u0000with NUL",
  bin: Buffer.from([0xff, 0xff, 0xff, 0xff]), vbin: EVERY_BYTE, blb: Buffer.concat([EVERY_BYTE, Buffer.from(EVERY_BYTE).reverse()]), lblb: Buffer.alloc(100_000, 0xab),
  j: '{"name": "Zoë 😀", "nested": {"list": [1, 2.5, -3e10, null, true, "𠜎"], "empty": {}}}',
  e: "x-large", s: "a,b,c,d", bit1: Buffer.from([1]), bit64: Buffer.alloc(8, 0xff), bit10: Buffer.from([0x03, 0xff]),
  u: "ffffffff-ffff-ffff-ffff-ffffffffffff", ip4: "255.255.255.255", ip6: "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", req: "max",
};
/* Zeros everywhere: the binlog strips trailing zero bytes of BINARY, UUID and INET values. TIMESTAMPs are written at +05:30. */
const MIN = {
  dec65: `-${DEC_MAX}`, dec_small: "-99999999.99", dec_plain: "-9999999999", big_u: "0", big_s: "-9223372036854775808",
  int_u: 0, int_s: -2147483648, tiny: -128, tiny1: -128, small_u: 0, medium: -8388608,
  flt: -3.4028234663852886e38, dbl: -1.7976931348623157e308,
  dt: "1000-01-01 00:00:00.000000", dt0: "1000-01-01 00:00:00", ts: "1970-01-01 05:30:01.000000", d: "1000-01-01", t: "-838:59:59.000000", y: 1901,
  ch: "", vc: "", txt: "", mtxt: "", bin: Buffer.alloc(4), vbin: Buffer.alloc(0), blb: Buffer.alloc(0), lblb: Buffer.alloc(0),
  j: "[]", e: "small", s: "", bit1: Buffer.from([0]), bit64: Buffer.alloc(8), bit10: Buffer.alloc(2),
  u: "00000000-0000-0000-0000-000000000000", ip4: "0.0.0.0", ip6: "::", req: "min",
};
const TINY = {
  dec65: "0.000000000000000000000000000001", dec_small: "-0.01", dec_plain: "0", big_u: "9007199254740993", big_s: "-9007199254740993",
  int_u: 1, int_s: 0, tiny: 0, tiny1: 0, small_u: 1, medium: 0, flt: 1.1754943508222875e-38, dbl: 5e-324,
  dt: "2024-02-29 23:59:59.123456", dt0: "2024-02-29 00:00:00", ts: "1970-01-01 05:30:01.000001", d: "2024-02-29", t: "-00:00:00.000001", y: 2000,
  ch: "It's", vc: "tab\tnew\nline\\slash", txt: "\u{1F600}".repeat(100), mtxt: "'", bin: Buffer.from([0, 1, 0, 0]), vbin: Buffer.from([0]), blb: EVERY_BYTE, lblb: EVERY_BYTE,
  j: '"just a string \\u00e9"', e: "it's", s: "b,d", bit1: Buffer.from([1]), bit64: Buffer.from("8000000000000001", "hex"), bit10: Buffer.from([0x02, 0x00]),
  u: "123e4567-e89b-12d3-a456-426614174000", ip4: "10.0.0.0", ip6: "::ffff:1.2.3.4", req: "tiny",
};
const COLUMNS = Object.keys(MAX);

describe("the torture table captured from the binlog", () => {
  let database: string;
  let conn: Connection;
  let source: Source;
  let snapshot: ChangeRecord[];
  let streamed: ChangeRecord[] = [];

  const insert = (id: number, row: Record<string, unknown>) =>
    conn.query(`INSERT INTO torture (id, ${COLUMNS.join(",")}) VALUES (?)`, [[id, ...COLUMNS.map((c) => row[c])]]);
  const canonical = async (id: number) => (await tableRows(database, "torture")).get(keyString({ id }));
  const afterOf = (r: ChangeRecord) => (r.value as { after: unknown }).after;

  beforeAll(async () => {
    database = await createDatabase("mariadb");
    conn = await mysqlConnection(harness(), database);
    // TIMESTAMP values written in a zone other than UTC must come out in UTC, unshifted
    await conn.query("SET time_zone = '+05:30'");
    await conn.query(TORTURE_DDL);
    await insert(1, MAX);
    await insert(2, MIN);
    await insert(3, TINY);
    await conn.query("INSERT INTO torture (id) VALUES (4)");
    source = binlogSource(database, { include: [`${database}.torture`] });
    await source.open(null);
    snapshot = (await readRecords(source, 4)).records;
  });

  afterAll(async () => {
    await source?.close();
    await conn?.end();
    if (database) await dropDatabase("mariadb", database);
  });

  it("copies every row exactly as the query path reads it", async () => {
    expect(snapshot.map((r) => (r.value as { op: string }).op)).toEqual(["r", "r", "r", "r"]);
    for (const r of snapshot) {
      expect(afterOf(r)).toEqual(await canonical(Number((r.key as { id: number }).id)));
      await assertEncodable(r);
    }
  });

  it("streams inserts, updates and deletes with every value exact, microseconds included, on the snapshot's schema", async () => {
    await insert(11, MAX);
    await insert(12, MIN);
    await insert(13, TINY);
    await conn.query("INSERT INTO torture (id) VALUES (14)");
    const inserted = await Promise.all([11, 12, 13, 14].map(canonical));
    await conn.query(`UPDATE torture SET ${COLUMNS.map((c) => `${c} = ?`).join(", ")} WHERE id = 11`, COLUMNS.map((c) => (TINY as Record<string, unknown>)[c]));
    const updated = await canonical(11);
    await conn.query("DELETE FROM torture WHERE id IN (12, 14)");

    const { records } = await readRecords(source, 4 + 1 + 4);
    streamed = records;
    const changes = records.filter((r) => r.value !== null).map((r) => r.value as { op: string; before: unknown; after: unknown });
    expect(changes.map((c) => c.op)).toEqual(["c", "c", "c", "c", "u", "d", "d"]);
    expect(changes.slice(0, 4).map((c) => c.after)).toEqual(inserted);
    expect(changes[4]).toMatchObject({ before: inserted[0], after: updated });
    expect(changes[5]!.before).toEqual(inserted[1]);
    expect(changes[6]!.before).toEqual(inserted[3]);
    expect(inserted[0]).toMatchObject({ dt: "9999-12-31T23:59:59.999999", ts: "2038-01-19T03:14:07.999999Z", t: "838:59:59.000000", u: "ffffffff-ffff-ffff-ffff-ffffffffffff" });
    expect(inserted[1]).toMatchObject({ bin: Buffer.alloc(4), u: "00000000-0000-0000-0000-000000000000", ip4: "0.0.0.0", ip6: "::", ts: "1970-01-01T00:00:01.000000Z" });
    for (const r of records) {
      expect(r.valueSchema).toBe(snapshot[0]!.valueSchema);
      if (r.value !== null) await assertEncodable(r);
    }
  });

  it("is read alike by Apache Avro's Java library once in Kafka, snapshot and stream, every schema valid Avro 1.12", async () => {
    const schemas = uniqueName("schemas");
    const kafka = kafkaClient();
    const service = await schemaService(kafka, schemas);
    try {
      await produce(kafka, service, [...snapshot, ...streamed]);
    } finally {
      await service.close();
    }
    const judged = await judgeWithEmbeddedRegistry(schemas, [snapshot[0]!.topic]);
    expect(judged.errors).toEqual([]);
    expect(judged.differences).toEqual([]);
    expect(judged.records).toBe(snapshot.length + streamed.length);
    expect(judged.schemas).toBe(2);
  });
});
