/**
 * The binlog source's position: Debezium's "offsets that record the phase". Committed by the
 * runtime with every batch, handed back on start; only this file reads or writes its shape.
 *
 *   phase "snapshot": the tables are being copied. `file`/`pos` is the point the copied rows are
 *     consistent with (streaming starts there); `snapshot` says how far the copy got.
 *   phase "stream": everything before `file`/`pos` is in Kafka.
 *   `row` > 0 only when a transaction larger than maxTransactionRecords was split: that many of
 *   its records are already in.
 */
import type { Json, Position } from "../../runtime/connector.js";
import { DataError, ErrorCode } from "../../runtime/errors.js";
import { isObject } from "../../runtime/json.js";
import type { SnapshotProgress } from "../../runtime/db/chunked-snapshot.js";
import type { IncrementalProgress } from "../../runtime/db/incremental-snapshot.js";

export type { SnapshotProgress } from "../../runtime/db/chunked-snapshot.js";

/** A point in the binlog: before the event at `pos` of `file`, on a transaction boundary. */
export interface Coordinates {
  file: string;
  pos: number;
}

/** What the table map cannot tell about one column: its real type and its literal default. */
export interface ColumnOverride {
  /** The table-map spelling the override was recorded against; it lapses when that changes. */
  for: string;
  /** uuid, inet4, inet6 (a binary(n) in the table map) or json (a longtext on MariaDB). */
  type?: string;
  default?: string;
}

/** Schema history: per "db.table", per column, what the binlog alone cannot say. */
export type SchemaOverrides = Record<string, Record<string, ColumnOverride>>;


interface Common extends Coordinates {
  /** The GTID position of everything before `file`/`pos` (MariaDB "domain-server-seq,…"); null where unknown. */
  gtid: string | null;
  /** Records of the transaction at `pos` already produced: > 0 only inside a split transaction. */
  row: number;
  schemas: SchemaOverrides;
}

export interface SnapshotPosition extends Common {
  phase: "snapshot";
  snapshot: SnapshotProgress;
}

export interface StreamPosition extends Common {
  phase: "stream";
  incremental: IncrementalProgress | null;
}

export type BinlogPosition = SnapshotPosition | StreamPosition;

export function parsePosition(position: Position | null): BinlogPosition | null {
  if (position === null) return null;
  const p = position as Record<string, unknown>;
  const valid =
    isObject(position) &&
    (p.phase === "snapshot" || p.phase === "stream") &&
    typeof p.file === "string" &&
    typeof p.pos === "number" &&
    (p.gtid === null || typeof p.gtid === "string") &&
    typeof p.row === "number" &&
    isObject(p.schemas) &&
    (p.phase === "stream" || (isObject(p.snapshot) && Array.isArray((p.snapshot as { tables?: unknown }).tables)));
  if (!valid) {
    throw new DataError(ErrorCode.POSITION_INVALID, `unreadable binlog position ${JSON.stringify(position).slice(0, 300)}`, {
      fix: "reset it with `liberator offsets reset --connector <name>` (the tables are then copied again)",
    });
  }
  const parsed = position as unknown as BinlogPosition;
  return parsed.phase === "stream" ? { ...parsed, incremental: parsed.incremental ?? null } : parsed;
}

/** The number at the end of a binlog file name ("mysql-bin.000012" → 12): files sort by it. */
export function fileSequence(file: string): number {
  const m = /(\d+)$/.exec(file);
  return m ? Number(m[1]) : 0;
}

/** <0, 0, >0 as `a` is before, at or after `b` in the log. */
export function compareCoordinates(a: Coordinates, b: Coordinates): number {
  return fileSequence(a.file) - fileSequence(b.file) || a.pos - b.pos;
}

export const describeCoordinates = (c: Coordinates) => `${c.file}:${c.pos}`;

/*
 * Chunk keys as JSON: the driver's values (numbers, exact strings), with binary keys as base64.
 * They go back into the next chunk's WHERE clause as parameters, so they must survive exactly.
 */
export function encodeKey(values: readonly unknown[]): Json[] {
  return values.map((v): Json => {
    if (Buffer.isBuffer(v)) return { base64: v.toString("base64") };
    if (typeof v === "bigint") return v.toString();
    if (v === null || typeof v === "string" || typeof v === "number" || typeof v === "boolean") return v;
    throw new DataError(ErrorCode.POSITION_INVALID, `a chunk key value ${typeof v} cannot be stored in the position`);
  });
}

export function decodeKey(values: readonly Json[]): unknown[] {
  return values.map((v) => (isObject(v) && typeof v.base64 === "string" ? Buffer.from(v.base64, "base64") : v));
}
