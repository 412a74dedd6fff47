import { describe, expect, it } from "vitest";
import { compareCoordinates, decodeKey, encodeKey, parsePosition } from "../../../src/sources/binlog/position.js";
import { tableFilter } from "../../../src/sources/binlog/filters.js";
import { binlogConfig, serverIdOf } from "../../../src/sources/binlog/config.js";

describe("binlog positions", () => {
  it("orders coordinates by file number, then offset", () => {
    expect(compareCoordinates({ file: "mysql-bin.000009", pos: 900 }, { file: "mysql-bin.000010", pos: 4 })).toBeLessThan(0);
    expect(compareCoordinates({ file: "mysql-bin.000010", pos: 500 }, { file: "mysql-bin.000010", pos: 400 })).toBeGreaterThan(0);
    expect(compareCoordinates({ file: "b.000001", pos: 4 }, { file: "b.000001", pos: 4 })).toBe(0);
  });

  it("keeps chunk keys exact through JSON: big numbers as text, binary keys as base64", () => {
    const key = ["18446744073709551615", 42, Buffer.from([0, 255, 7])];
    const stored = JSON.parse(JSON.stringify(encodeKey(key))) as ReturnType<typeof encodeKey>;
    expect(decodeKey(stored)).toEqual(key);
  });

  it("reads what it wrote and refuses anything else with the way out", () => {
    const position = { phase: "stream", file: "f.000001", pos: 4, gtid: null, row: 0, schemas: {}, incremental: null };
    expect(parsePosition(position)).toEqual(position);
    expect(parsePosition(null)).toBeNull();
    expect(() => parsePosition({ seq: 3 })).toThrow(/unreadable binlog position/);
  });
});

describe("binlog table filters and config", () => {
  it("captures by include then exclude patterns, never system schemas", () => {
    const f = tableFilter(["shop.*", "crm.customers"], ["shop.tmp_*"]);
    expect(f.captures("shop", "orders")).toBe(true);
    expect(f.captures("shop", "tmp_1")).toBe(false);
    expect(f.captures("crm", "customers")).toBe(true);
    expect(f.captures("crm", "leads")).toBe(false);
    expect(tableFilter(["*.*"], []).captures("mysql", "user")).toBe(false);
    expect(f.databases()).toEqual(["shop", "crm"]);
    expect(tableFilter(["s*.t"], []).databases()).toBeUndefined();
  });

  it("derives a stable server id from the connector name when none is set", () => {
    const config = binlogConfig.parse({ name: "orders-cdc", type: "binlog", connection: { user: "cdc" } });
    expect(serverIdOf(config)).toBe(serverIdOf(config));
    expect(serverIdOf(config)).toBeGreaterThanOrEqual(5_400_000);
    expect(serverIdOf({ ...config, serverId: 77 })).toBe(77);
    expect(config.snapshot).toMatchObject({ mode: "initial", chunkSize: 10_000, locking: "minimal" });
  });

  it("bounds the read-ahead queue by bytes as well as rows, 8 MB unless set, at least 1 MB", () => {
    const base = { name: "orders-cdc", type: "binlog", connection: { user: "cdc" } };
    expect(binlogConfig.parse(base)).toMatchObject({ maxQueuedRows: 2_000, maxQueuedBytes: 8 * 1024 * 1024 });
    expect(binlogConfig.parse({ ...base, maxQueuedBytes: 32 * 1024 * 1024 }).maxQueuedBytes).toBe(32 * 1024 * 1024);
    const refused = binlogConfig.safeParse({ ...base, maxQueuedBytes: 1000 });
    expect(refused.success).toBe(false);
    expect(refused.error?.issues[0]?.path).toEqual(["maxQueuedBytes"]);
  });
});
