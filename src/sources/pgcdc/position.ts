/**
 * The pgcdc source's position, committed by the runtime with every batch; only this file reads or
 * writes its shape.
 *
 *   lsn: every source transaction that committed before it is in Kafka; streaming resumes there
 *     (the server skips what commits before it). In phase "snapshot" it is the point the copied
 *     rows are consistent with.
 *   row > 0 only inside a transaction larger than maxTransactionRecords: that many records of the
 *     first transaction after `lsn` are already in.
 *   snapshot: how far the copy got (phase "snapshot").
 *   incremental: the incremental snapshot's tables left and last key (phase "stream"; null: none).
 */
import type { Json, Position } from "../../runtime/connector.js";
import { DataError, ErrorCode } from "../../runtime/errors.js";
import type { SnapshotProgress } from "../../runtime/db/chunked-snapshot.js";
import type { IncrementalProgress } from "../../runtime/db/incremental-snapshot.js";
import { isObject } from "../../runtime/json.js";
import { formatLsn, parseLsn } from "./pgoutput.js";

export interface At {
  lsn: bigint;
  row: number;
}

export type PgcdcPosition = (At & { phase: "stream"; incremental: IncrementalProgress | null }) | (At & { phase: "snapshot"; snapshot: SnapshotProgress });

export function parsePosition(position: Position | null): PgcdcPosition | null {
  if (position === null) return null;
  const p = position as Record<string, unknown>;
  const valid =
    isObject(position) &&
    (p.phase === "snapshot" || p.phase === "stream") &&
    typeof p.lsn === "string" &&
    /^[0-9A-F]{1,8}\/[0-9A-F]{1,8}$/i.test(p.lsn) &&
    typeof p.row === "number" &&
    (p.phase === "stream"
      ? p.incremental === undefined || p.incremental === null || (isObject(p.incremental) && Array.isArray((p.incremental as { tables?: unknown }).tables))
      : isObject(p.snapshot) && Array.isArray((p.snapshot as { tables?: unknown }).tables));
  if (!valid) {
    throw new DataError(ErrorCode.POSITION_INVALID, `unreadable pgcdc position ${JSON.stringify(position).slice(0, 300)}`, {
      fix: "reset it with `liberator offsets reset --connector <name>` (the tables are then copied again)",
    });
  }
  const at = { lsn: parseLsn(p.lsn as string), row: p.row as number };
  return p.phase === "stream" ? { phase: "stream", ...at, incremental: (p.incremental as IncrementalProgress | undefined) ?? null } : { phase: "snapshot", ...at, snapshot: p.snapshot as SnapshotProgress };
}

export function toPosition(p: PgcdcPosition): Position {
  const base = { phase: p.phase, lsn: formatLsn(p.lsn), row: p.row };
  return p.phase === "snapshot" ? { ...base, snapshot: p.snapshot as unknown as Json } : { ...base, incremental: p.incremental as unknown as Json };
}
