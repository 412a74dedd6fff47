/**
 * The pgoutput plugin's messages (PostgreSQL docs, "Logical Replication Message Formats"), and the
 * walsender's CopyData frames around them. Protocol versions 1 and 2 without `streaming`: a
 * transaction arrives whole, at its commit, so messages carry no xid. Values are kept as the
 * server's text (binary off): the same text the query source reads, so the same mapping applies.
 */

/** An unchanged TOASTed value: the server did not send it (the update did not touch it). */
export const UNCHANGED = Symbol("unchanged TOAST value");

/** One column's value: the text form, null, or UNCHANGED. */
export type TupleValue = string | null | typeof UNCHANGED;

export interface RelationColumn {
  name: string;
  /** Part of the replica identity (the key pgoutput sends for updates and deletes). */
  key: boolean;
  typeOid: number;
  typmod: number;
}

export interface Relation {
  id: number;
  schema: string;
  table: string;
  /** d(efault: primary key), n(othing), f(ull), i(ndex). */
  identity: "d" | "n" | "f" | "i";
  columns: RelationColumn[];
}

export type PgOutputMessage =
  | { tag: "begin"; finalLsn: bigint; commitTime: bigint; xid: number }
  | { tag: "commit"; commitLsn: bigint; endLsn: bigint; commitTime: bigint }
  | { tag: "relation"; relation: Relation }
  | { tag: "insert"; relation: number; row: TupleValue[] }
  /** `old` is the old key ('K') or whole old row ('O', REPLICA IDENTITY FULL) when the server sent one. */
  | { tag: "update"; relation: number; old: { kind: "key" | "row"; row: TupleValue[] } | null; row: TupleValue[] }
  | { tag: "delete"; relation: number; old: { kind: "key" | "row"; row: TupleValue[] } }
  | { tag: "truncate"; relations: number[]; cascade: boolean; restartIdentity: boolean }
  | { tag: "message"; transactional: boolean; lsn: bigint; prefix: string; content: Buffer }
  | { tag: "other" };

/** The walsender's frames inside CopyData. */
export type WalFrame =
  | { kind: "data"; start: bigint; end: bigint; message: Buffer }
  | { kind: "keepalive"; walEnd: bigint; replyRequested: boolean };

/** Microseconds between the Unix epoch and PostgreSQL's (2000-01-01). */
const PG_EPOCH_US = 946_684_800_000_000n;

export const pgTimeToMs = (pgMicros: bigint): number => Number((pgMicros + PG_EPOCH_US) / 1000n);

export function parseLsn(text: string): bigint {
  const m = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/.exec(text);
  if (!m) throw new Error(`not an LSN: ${JSON.stringify(text)}`);
  return (BigInt(`0x${m[1]}`) << 32n) | BigInt(`0x${m[2]}`);
}

export const formatLsn = (lsn: bigint): string => `${(lsn >> 32n).toString(16).toUpperCase()}/${(lsn & 0xffffffffn).toString(16).toUpperCase()}`;

class Reader {
  private at = 0;
  constructor(private readonly buf: Buffer) {}
  u8(): number {
    return this.buf.readUInt8(this.at++);
  }
  i16(): number {
    const v = this.buf.readInt16BE(this.at);
    this.at += 2;
    return v;
  }
  i32(): number {
    const v = this.buf.readInt32BE(this.at);
    this.at += 4;
    return v;
  }
  u32(): number {
    const v = this.buf.readUInt32BE(this.at);
    this.at += 4;
    return v;
  }
  i64(): bigint {
    const v = this.buf.readBigInt64BE(this.at);
    this.at += 8;
    return v;
  }
  u64(): bigint {
    const v = this.buf.readBigUInt64BE(this.at);
    this.at += 8;
    return v;
  }
  cstring(): string {
    const end = this.buf.indexOf(0, this.at);
    const s = this.buf.toString("utf8", this.at, end);
    this.at = end + 1;
    return s;
  }
  bytes(n: number): Buffer {
    const b = this.buf.subarray(this.at, this.at + n);
    this.at += n;
    return b;
  }
}

export function parseFrame(chunk: Buffer): WalFrame | undefined {
  const r = new Reader(chunk);
  const kind = r.u8();
  if (kind === 0x77 /* w */) {
    const start = r.u64();
    const end = r.u64();
    r.i64(); // send time
    return { kind: "data", start, end, message: chunk.subarray(25) };
  }
  if (kind === 0x6b /* k */) {
    const walEnd = r.u64();
    r.i64();
    return { kind: "keepalive", walEnd, replyRequested: r.u8() === 1 };
  }
  return undefined;
}

/** Standby status update: everything before `flushed` is safe (in Kafka); the slot may let its WAL go. */
export function standbyStatus(flushed: bigint, replyRequested = false): Buffer {
  const buf = Buffer.alloc(34);
  buf.writeUInt8(0x72 /* r */, 0);
  buf.writeBigUInt64BE(flushed, 1);
  buf.writeBigUInt64BE(flushed, 9);
  buf.writeBigUInt64BE(flushed, 17);
  buf.writeBigInt64BE(BigInt(Date.now()) * 1000n - PG_EPOCH_US, 25);
  buf.writeUInt8(replyRequested ? 1 : 0, 33);
  return buf;
}

function tuple(r: Reader): TupleValue[] {
  const n = r.i16();
  const out: TupleValue[] = new Array<TupleValue>(n);
  for (let i = 0; i < n; i++) {
    const kind = r.u8();
    if (kind === 0x6e /* n */) out[i] = null;
    else if (kind === 0x75 /* u */) out[i] = UNCHANGED;
    else if (kind === 0x74 /* t */) out[i] = r.bytes(r.i32()).toString("utf8");
    else throw new Error(`pgoutput: column kind ${String.fromCharCode(kind)} (binary values are not asked for)`);
  }
  return out;
}

function oldTuple(r: Reader, kind: number): { kind: "key" | "row"; row: TupleValue[] } {
  return { kind: kind === 0x4b /* K */ ? "key" : "row", row: tuple(r) };
}

export function parseMessage(buf: Buffer): PgOutputMessage {
  const r = new Reader(buf);
  const tag = r.u8();
  switch (tag) {
    case 0x42 /* B */:
      return { tag: "begin", finalLsn: r.u64(), commitTime: r.i64(), xid: r.u32() };
    case 0x43 /* C */: {
      r.u8(); // flags
      return { tag: "commit", commitLsn: r.u64(), endLsn: r.u64(), commitTime: r.i64() };
    }
    case 0x52 /* R */: {
      const id = r.u32();
      const schema = r.cstring();
      const table = r.cstring();
      const identity = String.fromCharCode(r.u8()) as Relation["identity"];
      const n = r.i16();
      const columns: RelationColumn[] = [];
      for (let i = 0; i < n; i++) {
        const flags = r.u8();
        columns.push({ key: (flags & 1) === 1, name: r.cstring(), typeOid: r.u32(), typmod: r.i32() });
      }
      return { tag: "relation", relation: { id, schema, table, identity, columns } };
    }
    case 0x49 /* I */: {
      const relation = r.u32();
      r.u8(); // N
      return { tag: "insert", relation, row: tuple(r) };
    }
    case 0x55 /* U */: {
      const relation = r.u32();
      const kind = r.u8();
      let old: { kind: "key" | "row"; row: TupleValue[] } | null = null;
      if (kind === 0x4b || kind === 0x4f) {
        old = oldTuple(r, kind);
        r.u8(); // N
      }
      return { tag: "update", relation, old, row: tuple(r) };
    }
    case 0x44 /* D */: {
      const relation = r.u32();
      return { tag: "delete", relation, old: oldTuple(r, r.u8()) };
    }
    case 0x54 /* T */: {
      const n = r.i32();
      const flags = r.u8();
      const relations: number[] = [];
      for (let i = 0; i < n; i++) relations.push(r.u32());
      return { tag: "truncate", relations, cascade: (flags & 1) === 1, restartIdentity: (flags & 2) === 2 };
    }
    case 0x4d /* M */: {
      const flags = r.u8();
      const lsn = r.u64();
      const prefix = r.cstring();
      return { tag: "message", transactional: (flags & 1) === 1, lsn, prefix, content: r.bytes(r.i32()) };
    }
    default:
      // origin ('O') and type ('Y'): nothing the source needs (types are asked of the catalog by oid)
      return { tag: "other" };
  }
}
