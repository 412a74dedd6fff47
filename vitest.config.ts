import { defineConfig } from "vitest/config";

/*
 * Three projects: unit tests need no server and run anywhere; integration and acceptance tests get
 * real servers (Kafka, a binlog-enabled MariaDB, a logical-WAL PostgreSQL, Redis) from the global
 * set-up, started once per run; the fault suite (test/faults) starts private servers, which it
 * restarts and cuts off: in one `vitest run` it runs last, and `npm test` runs it as a process of
 * its own beside the others (scripts/test.sh says why).
 */
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "unit",
          include: ["test/unit/**/*.test.ts"],
          // unit tests first: they need no server and fail fast
          sequence: { groupOrder: 0 },
          testTimeout: 20_000,
        },
      },
      {
        test: {
          name: "integration",
          sequence: { groupOrder: 1 },
          include: ["test/integration/**/*.test.ts", "test/acceptance/**/*.test.ts"],
          globalSetup: ["test/harness/global-setup.ts"],
          testTimeout: 120_000,
          hookTimeout: 180_000,
          // two cores shared with the broker and databases: a small pool avoids timeouts from starvation
          maxWorkers: 2,
        },
      },
      {
        test: {
          name: "faults",
          // last: it starts servers of its own (it restarts them), so it needs none of the set-up's
          sequence: { groupOrder: 2 },
          include: ["test/faults/**/*.test.ts"],
          // a scenario is a fault window, up to 30 s of recovery and a comparison; a broker start alone can take a minute under load
          testTimeout: 420_000,
          hookTimeout: 420_000,
          maxWorkers: 1,
        },
      },
    ],
  },
});
