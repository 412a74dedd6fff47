import type { Position } from "../../runtime/connector.js";
import { DataError, ErrorCode } from "../../runtime/errors.js";

/** Inclusive id ranges in which EVERY id was published: never a range over a hole. */
export type IdRuns = [first: number, last: number][];

/**
 * What the last committed batch published (DESIGN.md §5): its rows' ids, as exact runs. The
 * table itself is the cursor (unpublished rows are the rows still there), so the position only
 * has to say which rows may be cleaned up: a crash between the Kafka commit and the cleanup is
 * finished on the next open, before anything is read, and those rows are not published twice.
 */
// a type, not an interface: it must be assignable to the runtime's Json
export type OutboxPosition = {
  published: IdRuns;
};

export const EMPTY_POSITION: OutboxPosition = { published: [] };

export function parsePosition(position: Position | null): OutboxPosition {
  if (position === null) return EMPTY_POSITION;
  const runs = typeof position === "object" && !Array.isArray(position) ? position.published : undefined;
  if (Array.isArray(runs) && runs.every(isRun)) return { published: runs as IdRuns };
  throw new DataError(ErrorCode.POSITION_INVALID, `unreadable outbox position ${JSON.stringify(position)}`, {
    fix: "reset it with `liberator offsets reset --connector <name>`: the rows still in the outbox table are published again",
  });
}

const isRun = (run: unknown): boolean =>
  Array.isArray(run) && run.length === 2 && Number.isSafeInteger(run[0]) && Number.isSafeInteger(run[1]) && (run[0] as number) <= (run[1] as number);

/** Ascending ids as runs: [1,2,3,7,9,10] → [[1,3],[7,7],[9,10]]. */
export function toRuns(ids: readonly number[]): IdRuns {
  const runs: IdRuns = [];
  let last: [number, number] | undefined;
  for (const id of ids) {
    if (last && id === last[1] + 1) last[1] = id;
    else runs.push((last = [id, id]));
  }
  return runs;
}

export function idsOf(runs: IdRuns): number[] {
  const ids: number[] = [];
  for (const [first, last] of runs) for (let id = first; id <= last; id++) ids.push(id);
  return ids;
}

export function sameRuns(a: IdRuns, b: IdRuns): boolean {
  return a.length === b.length && a.every((run, i) => run[0] === b[i]![0] && run[1] === b[i]![1]);
}
