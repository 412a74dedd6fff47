import type { TestProject } from "vitest/node";
// the ProvidedContext augmentation that types project.provide("harness", …)
import type {} from "./env.js";
import { serversStateFile } from "./paths.js";
import { harnessEnv, startServers, type HarnessInfo } from "./start.js";
import { readServersState, reusableServers } from "./state.js";

/*
 * Global set-up of the integration project: once per run, before any test file.
 *
 * - When dev servers from `npm run servers -- start` are up (.cache/harness/servers.json, every
 *   server answering), they are reused and left running: no Kafka start-up on each run.
 * - Otherwise Kafka, MariaDB, PostgreSQL and Redis are started in parallel and stopped at the end.
 *   LIBERATOR_HARNESS_REUSE=0 forces this even when dev servers are up.
 *
 * Tests get the details with `harness()` (test/harness/env.ts); child processes get them from
 * the LIBERATOR_TEST_* environment variables set here, which vitest's workers inherit.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const started = Date.now();
  let info: HarnessInfo | undefined;
  let stop = async () => {};

  if (process.env.LIBERATOR_HARNESS_REUSE !== "0") {
    info = await reusableServers();
    if (info) {
      console.log(`[harness] reusing the dev servers of ${serversStateFile} (stop them with: npm run servers -- stop)`);
    } else if (readServersState()) {
      console.log(`[harness] ${serversStateFile} names servers that do not answer; starting fresh ones (npm run servers -- stop clears it)`);
    }
  }

  if (!info) {
    const harness = await startServers();
    info = harness.info;
    stop = () => harness.stop();
    const times = Object.entries(harness.startupMs)
      .map(([kind, ms]) => `${kind} ${(ms / 1000).toFixed(1)} s`)
      .join(", ");
    console.log(`[harness] servers ready in ${((Date.now() - started) / 1000).toFixed(1)} s (${times})`);
  }

  project.provide("harness", info);
  Object.assign(process.env, harnessEnv(info));

  return async () => {
    await stop();
  };
}
