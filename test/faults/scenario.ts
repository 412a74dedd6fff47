/**
 * One fault scenario, run the same way for every fault: writers running, the fault for its
 * window, the fault ended, every connector back to `running` within 30 s without anyone
 * restarting anything, the writers a little longer, then the three-way comparison.
 */
import { afterAll, beforeAll, expect } from "vitest";
import type { ConnectorStatusView } from "../support/daemon.js";
import { compareThreeWays, problems, type Comparison } from "./compare.js";
import { kafkaEvidence, startRig, type Rig, type RigOptions } from "./rig.js";
import { workload, type Workload, type WorkloadStats } from "./workload.js";

/**
 * A suite's rig and its writers: started before its scenarios, once the snapshot has reached both
 * sinks, and closed after them. Call it in a describe block; the getters are for its tests.
 */
export function useRig(options: RigOptions = {}): { rig: () => Rig; writers: () => Workload } {
  let rig: Rig | undefined;
  let writers: Workload | undefined;
  beforeAll(async () => {
    rig = await startRig(options);
    const started = rig;
    writers = workload(() => started.mysqlRoot(started.sourceDb), { id: 301, seq: 101 });
    // the snapshot has reached both sinks before any fault
    expect(problems(await compareThreeWays(started, 180_000))).toEqual([]);
  }, 400_000);
  afterAll(async () => {
    await writers?.stop();
    await rig?.close();
  }, 60_000);
  return { rig: () => rig!, writers: () => writers! };
}

/** The promise the issue makes: back to `running` within this long after the fault ends. */
export const RECOVERY_MS = 30_000;
/** Running this long without a break counts as recovered. */
const STABLE_MS = 3000;

export interface Fault {
  /** What goes wrong. */
  begin(rig: Rig): Promise<void>;
  /** How long it lasts (from the end of begin() to the start of end()). */
  windowMs: number;
  /** The fault is over: the server is back, the network restored, the privileges granted. */
  end(rig: Rig): Promise<void>;
  /** Records the fault put in the topics that nothing can decode (`topic/partition@offset`), filled in by begin(). */
  poison?: readonly string[];
}

export interface ScenarioResult {
  /** Each connector's states, in order, as polled from the fault's start until all ran again. */
  states: Record<string, string[]>;
  /** From the end of the fault until every connector was `running` again. */
  recoveryMs: number;
  writes: WorkloadStats;
  comparison: Comparison;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Liberator's own warnings and errors since `from` (an offset into its output), as `level msg` lines. */
export function logLinesSince(output: string, from: number, max = 12): string[] {
  const lines: string[] = [];
  for (const line of output.slice(from).split("\n")) {
    try {
      const entry = JSON.parse(line) as { level?: string; msg?: string; connector?: string; code?: string; err?: { message?: string } };
      if (entry.level === "warn" || entry.level === "error" || entry.level === "fatal") lines.push(`${entry.level} ${entry.connector ?? ""} ${entry.code ?? ""} ${entry.msg ?? ""} ${entry.err?.message ?? ""}`.replace(/\s+/g, " ").trim());
    } catch {
      if (line.trim()) lines.push(line.trim().slice(0, 300));
    }
  }
  // the first ones say what went wrong, the last ones where it ended
  return lines.length <= max ? lines : [...lines.slice(0, max / 2), `… ${lines.length - max} more …`, ...lines.slice(-max / 2)];
}

function describe(s: ConnectorStatusView): string {
  return `${s.name}: ${s.state}${s.lastError ? ` (${s.lastError.code}: ${s.lastError.message.slice(0, 300)})` : ""}`;
}

/**
 * Before a scenario every connector must run. After a scenario that failed that may not hold;
 * the daemon is then replaced so the next scenario tests its own fault, not the last one's.
 */
export async function ensureRunning(rig: Rig): Promise<void> {
  const statuses = await rig.daemon.statuses().catch(() => []);
  if (statuses.length === 3 && statuses.every((s) => s.state === "running")) return;
  console.warn(`[faults] before the next scenario, not all running: ${statuses.map(describe).join("; ")}; replacing the daemon`);
  try {
    await rig.replaceDaemon();
  } catch (error) {
    // a new daemon that cannot start either points at the rig rather than the daemon
    throw new Error([(error as Error).message, ...(await kafkaEvidence(rig))].join("\n"), { cause: error });
  }
}

export async function runScenario(rig: Rig, writers: Workload, name: string, fault: Fault): Promise<ScenarioResult> {
  await ensureRunning(rig);
  const logFrom = rig.daemon.output().length;
  writers.start();
  const states: Record<string, string[]> = {};
  const note = (list: ConnectorStatusView[]) => {
    for (const s of list) {
      const seen = (states[s.name] ??= []);
      if (seen.at(-1) !== s.state) seen.push(s.state);
    }
  };
  let polling = true;
  const poller = (async () => {
    while (polling) {
      note(await rig.daemon.statuses().catch(() => []));
      await sleep(250);
    }
  })();

  let recoveryMs: number;
  let writes: WorkloadStats;
  try {
    await sleep(3000);
    await fault.begin(rig);
    await sleep(fault.windowMs);
    await fault.end(rig);
    const ended = Date.now();
    const upstreamAtEnd = rig.proxies.kafka.upstream();
    let last: ConnectorStatusView[] = [];
    // a connector may notice the fault only after it ended (a killed session found at its next
    // read): recovered means running and staying so for STABLE_MS
    let runningSince: number | undefined;
    while (Date.now() - ended < RECOVERY_MS + STABLE_MS) {
      last = await rig.daemon.statuses().catch(() => []);
      note(last);
      if (last.length === 3 && last.every((s) => s.state === "running")) runningSince ??= Date.now();
      else runningSince = undefined;
      if (runningSince !== undefined && Date.now() - runningSince >= STABLE_MS) break;
      await sleep(250);
    }
    recoveryMs = (runningSince ?? Date.now()) - ended;
    const recovered = runningSince !== undefined && recoveryMs <= RECOVERY_MS;
    const evidence = recovered ? [] : await kafkaEvidence(rig, { upstream: upstreamAtEnd });
    const context = () =>
      [
        `${name}: states seen ${JSON.stringify(states)}`,
        `now: ${last.map(describe).join("; ")}`,
        `daemon ${rig.daemon.child.exitCode === null ? "alive" : `exited with ${rig.daemon.child.exitCode}`}; its warnings and errors:`,
        ...logLinesSince(rig.daemon.output(), logFrom).map((l) => `  ${l}`),
        ...evidence,
      ].join("\n");
    expect(last.map((s) => s.state), context()).toEqual(["running", "running", "running"]);
    expect(recoveryMs, context()).toBeLessThanOrEqual(RECOVERY_MS);
    // the pipeline works again, not only says so: writes after the recovery reach the sinks
    await sleep(2000);
  } finally {
    writes = await writers.stop();
    polling = false;
    await poller;
  }
  const comparison = await compareThreeWays(rig);
  const result: ScenarioResult = { states, recoveryMs, writes, comparison };
  console.log(
    `[faults] ${name}: back to running ${(recoveryMs / 1000).toFixed(1)} s after the fault; states ${JSON.stringify(states)}; ` +
      `writes ${JSON.stringify(writes)}; rows ${JSON.stringify(comparison.rows)}, ${comparison.kafkaRecords} Kafka records, sinks caught up in ${(comparison.catchUpMs / 1000).toFixed(1)} s`,
  );
  expect(writes.commits, `${name}: the writers committed nothing`).toBeGreaterThan(0);
  expect(problems(comparison, fault.poison), `${name}: source, Kafka and sinks disagree`).toEqual([]);
  const after = await rig.daemon.statuses();
  expect(after.map((s) => s.state), `${name}: after the comparison: ${after.map(describe).join("; ")}`).toEqual(["running", "running", "running"]);
  return result;
}
