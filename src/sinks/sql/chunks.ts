/** About how many bytes a driver parameter takes on the wire. */
export function paramBytes(value: unknown): number {
  if (value === null || value === undefined) return 1;
  if (typeof value === "string") return value.length + 3;
  if (Buffer.isBuffer(value)) return value.length * 2 + 3;
  if (Array.isArray(value)) return value.reduce((n: number, v) => n + paramBytes(v), 2);
  return 8;
}

/**
 * Cuts `count` rows of `width` parameters each (row after row in `params`) into consecutive
 * ranges [start, end) of at most `maxRows` rows and about `maxBytes` bytes (a single larger row
 * still gets a range of its own): one statement each, so none exceeds the server's packet limit.
 */
export function rowRanges(params: readonly unknown[], width: number, maxRows: number, maxBytes: number): [number, number][] {
  const count = width === 0 ? 0 : params.length / width;
  const out: [number, number][] = [];
  let start = 0;
  let bytes = 0;
  for (let r = 0; r < count; r++) {
    let size = 0;
    for (let i = r * width; i < (r + 1) * width; i++) size += paramBytes(params[i]);
    if (r > start && (r - start >= maxRows || bytes + size > maxBytes)) {
      out.push([start, r]);
      start = r;
      bytes = 0;
    }
    bytes += size;
  }
  if (start < count) out.push([start, count]);
  return out;
}
