/**
 * Two builds of the sql sink side by side, for a change to its speed: this checkout and the commit
 * BENCH_AB_BASE names (`BENCH_AB_BASE=main npm run bench -- sink-ab`). Each round starts both
 * `liberator run` at once, each with one sql sink (one task) on the same topic of the sink
 * benchmark's records (bench/sink.ts), each into its own fresh database; which one starts first
 * alternates. Both therefore share every moment's load: on this 2-core machine, runs of one build
 * minutes apart moved by a third, more than most changes are worth. Reported per round and as the
 * mean over rounds: CPU µs per row of each process (the steadier figure) and rows/s, both from its
 * first stored offset to its last; each target must hold exactly the keys written afterwards.
 *
 * BENCH_AB_BASE: a git ref (required); its worktree is kept under .cache/bench-ab with this
 * checkout's node_modules. BENCH_AB_ROUNDS (4). BENCH_AB_TARGET: postgres (default) or mariadb.
 * BENCH_SINK_ROWS / BENCH_SCALE: the records of the topic, as for `sink`.
 */
import { pino } from "pino";
import { createKafka } from "../src/runtime/kafka/client.js";
import { kafkaConfigSchema } from "../src/runtime/kafka/config.js";
import { schemaRegistryConfig } from "../src/runtime/schema-registry/config.js";
import { createSchemaService } from "../src/runtime/schema-registry/index.js";
import { uniqueName } from "../test/harness/util.js";
import { buildCommit, buildLiberator, loadAverage, ratio, round } from "./daemon.js";
import type { BenchContext, BenchResult } from "./report.js";
import { expected, fillTopic, mariadbTarget, postgresTarget, reconcile, runOne, type Filled, type OneRun, type Target } from "./sink.js";

const ROUNDS = Number(process.env.BENCH_AB_ROUNDS ?? 4);

const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

export async function run(context: BenchContext): Promise<BenchResult> {
  const ref = process.env.BENCH_AB_BASE;
  if (!ref) throw new Error("set BENCH_AB_BASE to the git ref to compare this checkout with, e.g. BENCH_AB_BASE=main npm run bench -- sink-ab");
  const make = process.env.BENCH_AB_TARGET === "mariadb" ? mariadbTarget : postgresTarget;
  const base = buildCommit(ref);
  const builds = { base: base.cli, ours: buildLiberator() };

  const info = await context.servers();
  const log = pino({ level: "silent" });
  const registryTopic = uniqueName("bench_ab_schemas");
  const kafka = createKafka(kafkaConfigSchema.parse({ brokers: info.kafka.brokers }), log, "bench-ab");
  const schemas = await createSchemaService(schemaRegistryConfig.parse({ topic: registryTopic }), { kafka, log });
  const filled: Filled = { topic: `${uniqueName("bench_ab")}.shop.orders`, ends: [] };
  try {
    filled.ends = await fillTopic(info, schemas, filled.topic, 1);
  } finally {
    await schemas.close();
  }

  const want = expected();
  const runs: { base: OneRun[]; ours: OneRun[] } = { base: [], ours: [] };
  const notes: string[] = [];
  let label = "";
  for (let r = 1; r <= ROUNDS; r++) {
    const order = r % 2 === 1 ? (["base", "ours"] as const) : (["ours", "base"] as const);
    const targets: Target[] = [];
    try {
      for (const _ of order) targets.push(await make(info));
      label = targets[0]!.label;
      const done = await Promise.all(order.map((side, i) => runOne(info, targets[i]!, filled, registryTopic, builds[side])));
      for (const [i, side] of order.entries()) {
        await reconcile(targets[i]!, want, `${side} in round ${r}`);
        runs[side].push(done[i]!);
      }
      const line = order.map((side, i) => `${side} ${Math.round(done[i]!.steady).toLocaleString("en-US")} rows/s at ${done[i]!.cpuUsPerRow.toFixed(2)} µs CPU/row`).join(", ");
      notes.push(`round ${r} (${order[0]} started first): ${line}; load ${loadAverage()}`);
    } finally {
      await Promise.all(targets.map((t) => t.close()));
    }
  }

  const cpu = { base: mean(runs.base.map((x) => x.cpuUsPerRow)), ours: mean(runs.ours.map((x) => x.cpuUsPerRow)) };
  const rate = { base: mean(runs.base.map((x) => x.steady)), ours: mean(runs.ours.map((x) => x.steady)) };
  const lower = runs.ours.filter((x, i) => x.cpuUsPerRow < runs.base[i]!.cpuUsPerRow).length;
  const baseLabel = base.commit.startsWith(ref) ? ref : `${ref} (${base.commit.slice(0, 7)})`;
  return {
    figures: [
      { name: `CPU per row into ${label}, this checkout (mean of ${ROUNDS})`, value: cpu.ours, unit: "µs", reference: { value: cpu.base, label: baseLabel } },
      { name: `rows/s into ${label}, this checkout (mean of ${ROUNDS})`, value: rate.ours, unit: "rows/s", reference: { value: rate.base, label: baseLabel } },
    ],
    fields: {
      cpu_us_per_row: { ours: round(cpu.ours), base: round(cpu.base) },
      rows_per_s: { ours: Math.round(rate.ours), base: Math.round(rate.base) },
      cpu_ratio: ratio(cpu.ours, cpu.base),
      rounds_with_lower_cpu: lower,
      rounds: ROUNDS,
    },
    notes: [
      `this checkout beside ${baseLabel}: both builds at once in each round, one sql sink each on the same topic of bench/sink.ts's records (${want.rows.toLocaleString("en-US")} keys), each into its own ${label} database`,
      ...notes,
      `CPU per row lower in ${lower} of ${ROUNDS} rounds`,
    ],
  };
}
