import { inject } from "vitest";
import { harnessInfoFromEnv, type HarnessInfo } from "./start.js";

declare module "vitest" {
  export interface ProvidedContext {
    /** Where the test servers are; provided by test/harness/global-setup.ts. */
    harness: HarnessInfo;
  }
}

/**
 * The test servers of this run. Only integration and acceptance tests have them: their vitest
 * project's global set-up starts (or reuses) the servers.
 */
export function harness(): HarnessInfo {
  const info = inject("harness") ?? harnessInfoFromEnv();
  if (!info) {
    throw new Error(
      "no test servers: run this file in the `integration` vitest project, whose global set-up (test/harness/global-setup.ts) starts them",
    );
  }
  return info;
}
