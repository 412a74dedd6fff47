/** A part's figures alone: rows/s and this process's CPU (user + system) per row over the work. */
export interface Ceiling {
  rowsPerS: number;
  cpuUsPerRow: number;
  seconds: number;
}

/** Wall time and this process's CPU of `work`, which handles `rows` rows. */
export async function timed(rows: number, work: () => Promise<void>): Promise<Ceiling> {
  const cpu = process.cpuUsage();
  const t0 = performance.now();
  await work();
  const ms = performance.now() - t0;
  const used = process.cpuUsage(cpu);
  return { rowsPerS: (rows * 1000) / ms, cpuUsPerRow: (used.user + used.system) / rows, seconds: ms / 1000 };
}
