/**
 * The fault suite: what a sidecar meets on an ordinary night, each fault under concurrent writers,
 * with one daemon (a binlog source and sql sinks into PostgreSQL and MariaDB) that nobody restarts.
 * Every scenario ends with every connector running again within 30 s of the fault's end and the
 * three-way comparison clean: 0 lost, 0 doubled, no stale value. docs/operations.md, "Faults".
 */
import { describe, expect, it } from "vitest";
import { grantSourcePrivileges, killMariaSessions, killPostgresSessions, revokeSourcePrivileges, type Rig } from "./rig.js";
import { runScenario, useRig } from "./scenario.js";

/** Short windows: long enough for every connector to meet the fault, short enough for CI. */
const CUT_MS = 10_000;

/** Each connector's liberator_connector_retrying_seconds_total, as the daemon exports it now. */
async function retryingSeconds(rig: Rig): Promise<Record<string, number>> {
  const text = await (await fetch(`${rig.daemon.adminUrl}/metrics`)).text();
  const out: Record<string, number> = {};
  for (const m of text.matchAll(/^liberator_connector_retrying_seconds_total\{connector="([^"]+)"\} (\S+)$/gm)) out[m[1]!] = Number(m[2]);
  return out;
}

/** Every connector spent time retrying during the scenario, and the metrics show it. */
async function expectRetryingTime(rig: Rig, before: Record<string, number>): Promise<void> {
  const after = await retryingSeconds(rig);
  console.log(`[faults] retrying seconds per connector: ${JSON.stringify(after)}`);
  for (const name of Object.values(rig.connectors)) expect(after[name] ?? 0, `${name}: retrying seconds`).toBeGreaterThan(before[name] ?? 0);
}

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

  it("rides through a Kafka broker killed (kill -9) and started again, the daemon untouched", async () => {
    const before = await retryingSeconds(rig());
    const result = await runScenario(rig(), writers(), "broker kill -9", {
      begin: (r) => r.kafka.halt("SIGKILL"),
      windowMs: 2000,
      end: (r) => r.kafka.relaunch(),
    });
    for (const name of Object.values(rig().connectors)) expect(result.states[name], name).toContain("retrying");
    await expectRetryingTime(rig(), before);
  });

  it("rides through a Kafka broker down for 2 minutes", async () => {
    const before = await retryingSeconds(rig());
    await runScenario(rig(), writers(), "broker down 2 min", {
      begin: (r) => r.kafka.halt(),
      windowMs: 120_000,
      end: (r) => r.kafka.relaunch(),
    });
    await expectRetryingTime(rig(), before);
  });

  it(`rides through the network to Kafka cut for ${CUT_MS / 1000} s and restored`, async () => {
    await runScenario(rig(), writers(), "network to Kafka cut", {
      begin: async (r) => r.proxies.kafka.cut(),
      windowMs: CUT_MS,
      end: async (r) => r.proxies.kafka.restore(),
    });
  });

  it("heals the binlog source when its privileges are revoked for 20 s and granted back", async () => {
    const result = await runScenario(rig(), writers(), "binlog privileges revoked", {
      begin: revokeSourcePrivileges,
      windowMs: 20_000,
      end: grantSourcePrivileges,
    });
    expect(result.states[rig().connectors.source]).toContain("retrying");
  });

  it("rides through a PostgreSQL restart", async () => {
    await runScenario(rig(), writers(), "PostgreSQL restart", {
      begin: (r) => r.postgres.halt(),
      windowMs: 2000,
      end: (r) => r.postgres.relaunch(),
    });
  });
});
