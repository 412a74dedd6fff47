import { describe, expect, it } from "vitest";
import { formatLsn, parseFrame, parseLsn, parseMessage, pgTimeToMs, standbyStatus, UNCHANGED } from "../../../src/sources/pgcdc/pgoutput.js";

/** Message bytes as the server writes them (PostgreSQL docs, "Logical Replication Message Formats"). */
class Out {
  private readonly parts: Buffer[] = [];
  u8(v: number) {
    this.parts.push(Buffer.from([v]));
    return this;
  }
  char(c: string) {
    return this.u8(c.charCodeAt(0));
  }
  i16(v: number) {
    const b = Buffer.alloc(2);
    b.writeInt16BE(v);
    this.parts.push(b);
    return this;
  }
  i32(v: number) {
    const b = Buffer.alloc(4);
    b.writeInt32BE(v);
    this.parts.push(b);
    return this;
  }
  i64(v: bigint) {
    const b = Buffer.alloc(8);
    b.writeBigInt64BE(v);
    this.parts.push(b);
    return this;
  }
  str(s: string) {
    this.parts.push(Buffer.from(`${s}\0`, "utf8"));
    return this;
  }
  text(s: string) {
    const b = Buffer.from(s, "utf8");
    return this.char("t").i32(b.length).bytes(b);
  }
  bytes(b: Buffer) {
    this.parts.push(b);
    return this;
  }
  done() {
    return Buffer.concat(this.parts);
  }
}

describe("pgoutput messages", () => {
  it("reads LSNs in the server's X/Y spelling both ways", () => {
    expect(parseLsn("16/B374D848")).toBe((0x16n << 32n) | 0xb374d848n);
    expect(formatLsn(parseLsn("0/1A2B"))).toBe("0/1A2B");
    expect(() => parseLsn("16B374D848")).toThrow(/not an LSN/);
  });

  it("reads a relation, then an update whose TOASTed column is unchanged and an old row under FULL", () => {
    const relation = parseMessage(
      new Out().char("R").i32(16384).str("public").str("docs").char("f").i16(2).u8(1).str("id").i32(23).i32(-1).u8(0).str("body").i32(25).i32(-1).done(),
    );
    expect(relation).toEqual({
      tag: "relation",
      relation: { id: 16384, schema: "public", table: "docs", identity: "f", columns: [{ key: true, name: "id", typeOid: 23, typmod: -1 }, { key: false, name: "body", typeOid: 25, typmod: -1 }] },
    });
    const update = parseMessage(new Out().char("U").i32(16384).char("O").i16(2).text("1").text("ü big").char("N").i16(2).text("1").char("u").done());
    expect(update).toEqual({ tag: "update", relation: 16384, old: { kind: "row", row: ["1", "ü big"] }, row: ["1", UNCHANGED] });
    const noOld = parseMessage(new Out().char("U").i32(16384).char("N").i16(2).text("1").char("n").done());
    expect(noOld).toEqual({ tag: "update", relation: 16384, old: null, row: ["1", null] });
  });

  it("reads begin, commit, a key-only delete, truncate and a logical message", () => {
    expect(parseMessage(new Out().char("B").i64(0x100n).i64(0n).i32(742).done())).toEqual({ tag: "begin", finalLsn: 0x100n, commitTime: 0n, xid: 742 });
    expect(parseMessage(new Out().char("C").u8(0).i64(0x100n).i64(0x130n).i64(1_000_000n).done())).toEqual({ tag: "commit", commitLsn: 0x100n, endLsn: 0x130n, commitTime: 1_000_000n });
    expect(parseMessage(new Out().char("D").i32(7).char("K").i16(2).text("5").char("n").done())).toEqual({ tag: "delete", relation: 7, old: { kind: "key", row: ["5", null] } });
    expect(parseMessage(new Out().char("T").i32(2).u8(3).i32(7).i32(8).done())).toEqual({ tag: "truncate", relations: [7, 8], cascade: true, restartIdentity: true });
    const m = parseMessage(new Out().char("M").u8(0).i64(0x200n).str("liberator").i32(2).bytes(Buffer.from("hb")).done());
    expect(m).toMatchObject({ tag: "message", transactional: false, lsn: 0x200n, prefix: "liberator" });
  });

  it("turns PostgreSQL's microseconds since 2000 into Unix milliseconds", () => {
    expect(pgTimeToMs(0n)).toBe(Date.UTC(2000, 0, 1));
    expect(pgTimeToMs(1_500n)).toBe(Date.UTC(2000, 0, 1) + 1);
  });

  it("reads XLogData and keepalive frames, and writes a standby status with the confirmed LSN in all three places", () => {
    const data = new Out().char("w").i64(0x10n).i64(0x20n).i64(0n).char("B").done();
    expect(parseFrame(data)).toMatchObject({ kind: "data", start: 0x10n, end: 0x20n });
    expect(parseFrame(new Out().char("k").i64(0x30n).i64(0n).u8(1).done())).toEqual({ kind: "keepalive", walEnd: 0x30n, replyRequested: true });
    const status = standbyStatus(0xabcn);
    expect(status[0]).toBe("r".charCodeAt(0));
    expect([status.readBigUInt64BE(1), status.readBigUInt64BE(9), status.readBigUInt64BE(17)]).toEqual([0xabcn, 0xabcn, 0xabcn]);
  });
});
