/** About how many bytes a driver parameter takes on the wire. */
export function paramBytes(value: unknown): number {
  if (value === null || value === undefined) return 1;
  if (typeof value === "string") return value.length + 3;
  if (Buffer.isBuffer(value)) return value.length * 2 + 3;
  if (Array.isArray(value)) return value.reduce((n: number, v) => n + paramBytes(v), 2);
  return 8;
}

/**
 * Cuts rows into consecutive slices of at most `maxRows` rows and about `maxBytes` bytes each (a
 * single larger row still gets a slice of its own): one statement each, so none exceeds the
 * server's packet limit.
 */
export function chunkRows<T extends unknown[]>(rows: readonly T[], maxRows: number, maxBytes: number): T[][] {
  const out: T[][] = [];
  let start = 0;
  let bytes = 0;
  for (let i = 0; i < rows.length; i++) {
    let size = 0;
    for (const v of rows[i]!) size += paramBytes(v);
    if (i > start && (i - start >= maxRows || bytes + size > maxBytes)) {
      out.push(rows.slice(start, i));
      start = i;
      bytes = 0;
    }
    bytes += size;
  }
  if (start < rows.length) out.push(start === 0 ? (rows as T[]) : rows.slice(start));
  return out;
}
