/**
 * Rows to Kafka records in the Debezium envelope (DESIGN.md §3), for the log-based sources (binlog,
 * pgcdc). A delete is followed by a
 * tombstone; an update that changes the key becomes a delete (and tombstone) of the old key and a
 * create of the new one, as Debezium does, so compacted topics forget the old key.
 */
import type { ChangeRecord, Op } from "../connector.js";
import { envelope, type SourceInfo, type TransactionInfo, type TableStream } from "./envelope.js";

/** One version of a captured table: what the records of its rows are built from. */
interface Captured {
  stream: TableStream;
}

type Row = Record<string, unknown>;

function sameKey(a: Row | null, b: Row | null): boolean {
  if (a === null || b === null) return a === b;
  for (const k in a) {
    const x = a[k];
    const y = b[k];
    if (x === y) continue;
    if (Buffer.isBuffer(x) && Buffer.isBuffer(y) && x.equals(y)) continue;
    return false;
  }
  return true;
}

type Meta<T extends Captured> = (table: T) => { source: SourceInfo; transaction: TransactionInfo | null };

function record<T extends Captured>(t: T, op: Op, before: Row | null, after: Row | null, key: Row | null, timestamp: number, meta: Meta<T>): ChangeRecord {
  const s = t.stream;
  const { source, transaction } = meta(t);
  return { topic: s.topic, key, keySchema: s.keySchema, value: envelope(op, before, after, source, transaction), valueSchema: s.valueSchema, timestamp };
}

function tombstone(out: ChangeRecord[], t: Captured, key: Row | null, timestamp: number): void {
  const s = t.stream;
  if (key !== null) out.push({ topic: s.topic, key, keySchema: s.keySchema, value: null, valueSchema: s.valueSchema, timestamp });
}

/** Appends the records of one row change; `meta` gives each record its source and transaction blocks. */
export function pushChange<T extends Captured>(out: ChangeRecord[], t: T, op: "c" | "u" | "d" | "r", beforeDriver: Row | null, afterDriver: Row | null, timestamp: number, meta: Meta<T>): void {
  const s = t.stream;
  if (op === "c" || op === "r") {
    const after = s.row(afterDriver!);
    out.push(record(t, op, null, after, s.keyOf(after), timestamp, meta));
    return;
  }
  const before = s.row(beforeDriver!);
  const oldKey = s.keyOf(before);
  if (op === "d") {
    out.push(record(t, "d", before, null, oldKey, timestamp, meta));
    tombstone(out, t, oldKey, timestamp);
    return;
  }
  const after = s.row(afterDriver!);
  const newKey = s.keyOf(after);
  if (sameKey(oldKey, newKey)) {
    out.push(record(t, "u", before, after, newKey, timestamp, meta));
    return;
  }
  out.push(record(t, "d", before, null, oldKey, timestamp, meta));
  tombstone(out, t, oldKey, timestamp);
  out.push(record(t, "c", null, after, newKey, timestamp, meta));
}

/** TRUNCATE: one record with a null key and no rows. */
export function truncateRecord(t: Captured, timestamp: number, source: SourceInfo, transaction: TransactionInfo | null): ChangeRecord {
  const s = t.stream;
  return { topic: s.topic, key: null, keySchema: s.keySchema, value: envelope("t", null, null, source, transaction), valueSchema: s.valueSchema, timestamp };
}

/**
 * A change whose old row is not known, only its key (PostgreSQL under REPLICA IDENTITY DEFAULT or
 * INDEX: the old key when the key changed, nothing when it did not): `before` is null. The key is
 * read from `oldKeyDriver`, which holds at least the key columns.
 */
export function pushKeyedChange<T extends Captured>(out: ChangeRecord[], t: T, op: "u" | "d", oldKeyDriver: Row | null, afterDriver: Row | null, timestamp: number, meta: Meta<T>): void {
  const s = t.stream;
  const oldKey = oldKeyDriver === null ? null : keyOfDriver(s, oldKeyDriver);
  if (op === "d") {
    out.push(record(t, "d", null, null, oldKey, timestamp, meta));
    tombstone(out, t, oldKey, timestamp);
    return;
  }
  const after = s.row(afterDriver!);
  const newKey = s.keyOf(after);
  if (oldKey === null || sameKey(oldKey, newKey)) {
    out.push(record(t, "u", null, after, newKey, timestamp, meta));
    return;
  }
  out.push(record(t, "d", null, null, oldKey, timestamp, meta));
  tombstone(out, t, oldKey, timestamp);
  out.push(record(t, "c", null, after, newKey, timestamp, meta));
}

function keyOfDriver(s: TableStream, driver: Row): Row | null {
  if (s.key.length === 0) return null;
  const out: Row = {};
  for (const c of s.key) out[c.field.name] = c.fromDriver(driver[c.column]);
  return out;
}
