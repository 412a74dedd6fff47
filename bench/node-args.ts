/**
 * Extra Node flags for the liberator child a benchmark spawns, from LIBERATOR_BENCH_NODE_ARGS
 * (space-separated), e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof": Node refuses --cpu-prof in
 * NODE_OPTIONS, and profiling the daemon is what a slow figure calls for.
 */
export function childNodeArgs(): string[] {
  return (process.env.LIBERATOR_BENCH_NODE_ARGS ?? "").split(" ").filter((a) => a !== "");
}
