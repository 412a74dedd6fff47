import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { pgcdcSpec } from "../../../src/sources/pgcdc/index.js";
import { testContext } from "../../acceptance/source-suite.js";
import { harness, startPostgres, uniqueName, type PostgresServer } from "../../harness/index.js";
import { repoRoot } from "../../harness/paths.js";
import { pgcdcConnector, scratchDatabase } from "./support.js";

/** `liberator validate` on one pgcdc connector: its exit status and what it printed. */
function validate(connector: Record<string, unknown>): { status: number | null; stdout: string; stderr: string } {
  const dir = mkdtempSync(join(tmpdir(), "liberator-validate-"));
  const file = join(dir, "connectors.yaml");
  writeFileSync(file, stringify({ kafka: { brokers: harness().kafka.brokers }, connectors: [connector] }));
  return spawnSync(process.execPath, ["--import", "tsx", join(repoRoot, "src/cli.ts"), "validate", "-c", file], { cwd: repoRoot, encoding: "utf8" });
}

describe("pgcdc preflight", () => {
  const db = scratchDatabase();
  let replica: PostgresServer | undefined;

  afterAll(async () => {
    await replica?.stop();
  });

  it("refuses wal_level=replica: validate prints the fix and exits 1", async () => {
    replica = await startPostgres({ settings: { wal_level: "replica" } });
    const connector = { name: uniqueName("wal"), type: "pgcdc", connection: { host: replica.host, port: replica.port, user: replica.user, password: replica.password } };
    const result = validate(connector);
    expect(result.status, result.stderr).toBe(1);
    expect(result.stdout).toMatch(/FAIL connector ".*": wal_level: wal_level is replica, logical decoding needs logical/);
    expect(result.stdout).toMatch(/fix: ALTER SYSTEM SET wal_level = logical; then restart PostgreSQL/);
  }, 120_000);

  it("refuses a table with REPLICA IDENTITY NOTHING: validate names the table and the ALTER TABLE, exits 1", async () => {
    await db.client.query("CREATE TABLE audit (id INT PRIMARY KEY, line TEXT)");
    await db.client.query("ALTER TABLE audit REPLICA IDENTITY NOTHING");
    try {
      const result = validate(pgcdcConnector(uniqueName("identity"), db.name));
      expect(result.status, result.stderr).toBe(1);
      expect(result.stdout).toMatch(/replica_identity: public\.audit has no replica identity/);
      expect(result.stdout).toMatch(/fix: ALTER TABLE "public"\."audit" REPLICA IDENTITY FULL;/);
    } finally {
      await db.client.query("DROP TABLE audit");
    }
  }, 60_000);

  it("refuses a user without REPLICATION, at validate and at start, naming the ALTER ROLE", async () => {
    await db.client.query("CREATE TABLE shop (id INT PRIMARY KEY)");
    const user = uniqueName("norepl");
    await db.client.query(`CREATE ROLE ${user} LOGIN PASSWORD 'pw'`);
    await db.client.query(`GRANT SELECT ON shop TO ${user}`);
    try {
      const config = pgcdcSpec.config.parse({ ...pgcdcConnector(uniqueName("norepl"), db.name), connection: { ...harness().postgres, user, password: "pw", database: db.name }, publication: { create: "never" } });
      const checks = await pgcdcSpec.preflight!(config, { connector: config.name, log: testContext(config.name).log });
      expect(checks.find((c) => c.check === "replication")).toMatchObject({ ok: false, fix: expect.stringMatching(new RegExp(`ALTER ROLE "${user}" WITH REPLICATION`)) });
      const source = pgcdcSpec.kind === "source" ? pgcdcSpec.create(config, testContext(config.name)) : undefined;
      await expect(source!.open(null)).rejects.toMatchObject({ code: "PGCDC_REPLICATION_PRIVILEGE_MISSING", retriable: false });
      await source!.close();
    } finally {
      await db.client.query(`DROP OWNED BY ${user}; DROP ROLE ${user}`);
    }
  });

  it("passes a table with a primary key, and warns that a DEFAULT identity gives no before image", async () => {
    await db.client.query("CREATE TABLE notes (id INT PRIMARY KEY, body TEXT)");
    const config = pgcdcSpec.config.parse({ ...pgcdcConnector(uniqueName("ok"), db.name), include: ["public.notes"] });
    const checks = await pgcdcSpec.preflight!(config, { connector: config.name, log: testContext(config.name).log });
    expect(checks.filter((c) => !c.ok)).toEqual([]);
    expect(checks.find((c) => c.check === "before_images")).toMatchObject({ severity: "warning", fix: 'ALTER TABLE "public"."notes" REPLICA IDENTITY FULL;' });
  });
});
