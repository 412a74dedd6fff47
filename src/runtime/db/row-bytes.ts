/**
 * What rows read by a driver weigh, from a sample of them: text and binary values by their length,
 * anything else as 8 bytes. Sources size their reads with it, so a batch of wide rows stays within
 * `batch.maxBytes` instead of holding as many rows as narrow ones.
 */
export function sampleRowBytes(rows: readonly Record<string, unknown>[]): number {
  if (rows.length === 0) return 0;
  const step = Math.max(1, Math.floor(rows.length / 16));
  let bytes = 0;
  let sampled = 0;
  for (let i = 0; i < rows.length; i += step, sampled++) {
    for (const v of Object.values(rows[i]!)) bytes += typeof v === "string" ? v.length : Buffer.isBuffer(v) ? v.length : 8;
  }
  return Math.ceil(bytes / sampled);
}

/**
 * `limit` rows, or fewer when rows of `rowBytes` would pass `maxBytes`: then the largest power of
 * two that fits (at least 1), since the row count is part of the SQL and MySQL keeps each text it
 * prepared. `rowBytes` 0 (not measured yet) leaves `limit` as it is.
 */
export function rowsWithin(limit: number, maxBytes: number, rowBytes: number): number {
  const byBytes = rowBytes > 0 ? Math.floor(maxBytes / rowBytes) : Infinity;
  return byBytes < limit ? 2 ** Math.floor(Math.log2(Math.max(byBytes, 1))) : limit;
}

/** A table's first chunk at most: its rows' width is known only from the server's estimate, which may be missing or stale. */
const PROBE_ROWS = 100;

/**
 * Rows per chunk: `snapshot.chunkSize`, or fewer when the table's rows are wide, so that a chunk
 * (one batch: the pipeline holds two, one read ahead while the other commits) stays near
 * `batch.maxBytes` (10,000 rows of 4 KB would be 40 MB each; a power of two when the bytes decide,
 * so the prepared statement of a chunk stays the same). A table's first chunk is a probe of
 * at most PROBE_ROWS, fewer when the server's average row length says so; each later one goes by
 * the rows of the chunk before it.
 */
export class ChunkSize {
  private measured = false;

  constructor(
    private readonly chunkSize: number,
    private readonly maxBytes: number,
    private rowBytes: number,
  ) {}

  rows(): number {
    return rowsWithin(Math.min(this.chunkSize, this.measured ? Infinity : PROBE_ROWS), this.maxBytes, this.rowBytes);
  }

  read(rows: readonly Record<string, unknown>[]): void {
    if (rows.length === 0) return;
    this.rowBytes = sampleRowBytes(rows);
    this.measured = true;
  }
}
