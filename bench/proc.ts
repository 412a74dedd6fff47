/** What /proc says of a process: its CPU and memory, as every benchmark measures them. */
import { readFileSync } from "node:fs";

const TICKS_PER_SECOND = 100;

/** User + system CPU a process has used so far, in seconds (fields 14 and 15 of /proc/pid/stat). */
export function cpuSecondsOf(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

/** VmRSS and VmHWM (peak) of a process, kB; zeros once it is gone. */
export function memoryOf(pid: number): { rssKb: number; peakKb: number } {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    return { rssKb: Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0), peakKb: Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0) };
  } catch {
    return { rssKb: 0, peakKb: 0 };
  }
}
