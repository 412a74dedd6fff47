/**
 * Rows to Kafka records in the Debezium envelope (DESIGN.md §3). A delete is followed by a
 * tombstone; an update that changes the key becomes a delete (and tombstone) of the old key and a
 * create of the new one, as Debezium does, so compacted topics forget the old key.
 */
import type { ChangeRecord, Op } from "../../runtime/connector.js";
import { envelope, type SourceInfo, type TransactionInfo } from "../../runtime/schema/envelope.js";
import type { CapturedTable } from "./schema-history.js";

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

/** Appends the records of one row change; `source` and `transaction` are filled per record by `meta`. */
export function pushChange(
  out: ChangeRecord[],
  t: CapturedTable,
  op: "c" | "u" | "d" | "r",
  beforeDriver: Row | null,
  afterDriver: Row | null,
  timestamp: number,
  meta: (table: CapturedTable) => { source: SourceInfo; transaction: TransactionInfo | null },
): void {
  const s = t.stream;
  const before = beforeDriver && s.row(beforeDriver);
  const after = afterDriver && s.row(afterDriver);
  const push = (o: Op, b: Row | null, a: Row | null, key: Row | null) => {
    const { source, transaction } = meta(t);
    out.push({ topic: s.topic, key, keySchema: s.keySchema, value: envelope(o, b, a, source, transaction), valueSchema: s.valueSchema, timestamp });
  };
  const tombstone = (key: Row | null) => {
    if (key !== null) out.push({ topic: s.topic, key, keySchema: s.keySchema, value: null, valueSchema: s.valueSchema, timestamp });
  };
  if (op === "u") {
    const oldKey = s.keyOf(before!);
    const newKey = s.keyOf(after!);
    if (!sameKey(oldKey, newKey)) {
      push("d", before, null, oldKey);
      tombstone(oldKey);
      push("c", null, after, newKey);
      return;
    }
    push("u", before, after, newKey);
    return;
  }
  if (op === "d") {
    const key = s.keyOf(before!);
    push("d", before, null, key);
    tombstone(key);
    return;
  }
  push(op, null, after, s.keyOf(after!));
}

/** TRUNCATE: one record with a null key and no rows. */
export function truncateRecord(t: CapturedTable, timestamp: number, source: SourceInfo, transaction: TransactionInfo | null): ChangeRecord {
  const s = t.stream;
  return { topic: s.topic, key: null, keySchema: s.keySchema, value: envelope("t", null, null, source, transaction), valueSchema: s.valueSchema, timestamp };
}
