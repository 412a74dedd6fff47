/**
 * The query source's position: per stream (keyed by topic), where its keyset cursor stands and what
 * a restart needs to carry on exactly (DESIGN.md §5: `{ ts, id }` per table, committed with the
 * records in one Kafka transaction).
 */
import type { Json, Position } from "../../runtime/connector.js";
import { DataError, ErrorCode } from "../../runtime/errors.js";
import { isObject } from "../../runtime/json.js";

export interface StreamCursor {
  /** The timestamp column's value of the last row read (timestamp modes), as the driver gave it. */
  ts?: string | null;
  /** The incrementing column's or the key's value(s) of the last row read: one value, or a list for a composite key. */
  id?: Json;
  /** While the initial load runs: the fixed bound it reads up to (a UTC instant or an id); absent once done. */
  snapshot?: { until: Json };
  /** Bulk mode: passes completed, and when the last one ended (ms since 1970). */
  pass?: number;
  passAt?: number;
  /** timestamp+incrementing: the highest id read so far; a row beyond it is new (`op: c`). */
  maxId?: Json;
  /** Hard-delete detection: the keys emitted and still present, compressed (deletes.ts), and when the last pass ended. */
  keys?: string[];
  deletesAt?: number;
}

export interface QueryPosition {
  streams: Record<string, StreamCursor>;
}

export function parsePosition(position: Position | null): QueryPosition {
  if (position === null) return { streams: {} };
  if (isObject(position) && isObject(position.streams)) return position as unknown as QueryPosition;
  throw new DataError(ErrorCode.POSITION_INVALID, `unreadable query position ${JSON.stringify(position).slice(0, 200)}`, {
    fix: "reset it with `liberator offsets reset --connector <name>`",
  });
}

/**
 * One task's start out of every position the connector's tasks stored, oldest first: each stream's
 * cursor from the newest position that holds it. A task writes only its own streams' cursors, so
 * the newest is where the stream's last owner left it, whatever task count that owner ran with.
 */
export function mergePositions(positions: readonly Position[]): Position {
  const streams: Record<string, StreamCursor> = {};
  for (const position of positions) Object.assign(streams, parsePosition(position).streams);
  const merged: QueryPosition = { streams };
  return merged as unknown as Position;
}

/** A driver value as JSON: Buffers (binary keys) become `{ "base64": … }`. */
export function encodeValue(value: unknown): Json {
  if (Buffer.isBuffer(value)) return { base64: value.toString("base64") };
  if (typeof value === "bigint") return value.toString();
  return value as Json;
}

export function decodeValue(value: Json | undefined): unknown {
  if (isObject(value) && typeof value.base64 === "string") return Buffer.from(value.base64, "base64");
  return value ?? null;
}
