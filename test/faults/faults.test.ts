/**
 * The fault suite: what a sidecar meets on an ordinary night, each fault under concurrent writers,
 * with one daemon (a binlog source and sql sinks into PostgreSQL and MariaDB) that nobody restarts.
 * Every scenario ends with every connector running again within 30 s of the fault's end and the
 * three-way comparison clean: 0 lost, 0 doubled, no stale value. docs/operations.md, "Faults".
 */
import { describe, expect, it } from "vitest";
import { killMariaSessions, killPostgresSessions } from "./rig.js";
import { runScenario, useRig } from "./scenario.js";

/** Short windows: long enough for every connector to meet the fault, short enough for CI. */
const CUT_MS = 10_000;

describe("fault suite: binlog source → Kafka → sql sinks, under concurrent writers", () => {
  const { rig, writers } = useRig();

  it("rides through Liberator's sessions being killed on MariaDB and PostgreSQL", async () => {
    await runScenario(rig(), writers(), "sessions killed", {
      begin: async (r) => {
        const killed = (await killMariaSessions(r)) + (await killPostgresSessions(r));
        expect(killed).toBeGreaterThan(0);
      },
      windowMs: 0,
      end: async () => {},
    });
  });

  for (const server of ["mariadb", "postgres"] as const) {
    it(`rides through the network to ${server} cut for ${CUT_MS / 1000} s and restored`, async () => {
      await runScenario(rig(), writers(), `network to ${server} cut`, {
        begin: async (r) => r.proxies[server].cut(),
        windowMs: CUT_MS,
        end: async (r) => r.proxies[server].restore(),
      });
    });
  }

  it("rides through a MariaDB restart (the source and the MariaDB sink's server)", async () => {
    await runScenario(rig(), writers(), "MariaDB restart", {
      begin: (r) => r.mariadb.halt(),
      windowMs: 2000,
      end: (r) => r.mariadb.relaunch(),
    });
  });

  it("rides through a PostgreSQL restart", async () => {
    await runScenario(rig(), writers(), "PostgreSQL restart", {
      begin: (r) => r.postgres.halt(),
      windowMs: 2000,
      end: (r) => r.postgres.relaunch(),
    });
  });
});
