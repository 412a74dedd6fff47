import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mysql, { type Connection, type RowDataPacket } from "mysql2/promise";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { binlogSpec } from "../../../src/sources/binlog/index.js";
import { testContext } from "../../acceptance/source-suite.js";
import { harness, startMariaDB, uniqueName, waitFor, type MariaDBServer } from "../../harness/index.js";
import { repoRoot } from "../../harness/paths.js";
import { startDaemon, type Daemon } from "../../support/daemon.js";
import { closeRegistry, untilStreaming, readChanges } from "./support.js";

describe("binlog preflight and lost positions, on a MariaDB of its own", () => {
  let server: MariaDBServer;
  let root: Connection;
  const daemons: Daemon[] = [];

  const connector = (name: string, extra: Record<string, unknown> = {}) => ({
    name,
    type: "binlog",
    connection: { host: server.host, port: server.port, user: server.user, password: server.password },
    include: ["shop.*"],
    heartbeat: { intervalMs: 500 },
    ...extra,
  });
  const daemon = async (connectors: unknown[]) => {
    const d = await startDaemon({ connectors });
    daemons.push(d);
    return d;
  };
  const failedWith = (d: Daemon, name: string) =>
    waitFor(async () => {
      const s = await d.status(name);
      return s?.state === "failed" ? s.lastError : undefined;
    }, { timeoutMs: 30_000, message: `${name} to fail` }).catch((err: Error) => {
      throw new Error(`${err.message}\n${d.output().slice(-3000)}`);
    });

  beforeAll(async () => {
    server = await startMariaDB({ serverId: 7 });
    root = await mysql.createConnection({ host: server.host, port: server.port, user: server.user, password: server.password, multipleStatements: true });
    await root.query("CREATE DATABASE shop; CREATE TABLE shop.orders (id INT PRIMARY KEY, total DECIMAL(10,2) NOT NULL)");
    await root.query("INSERT INTO shop.orders VALUES (1, 9.99), (2, 19.99)");
  });

  afterAll(async () => {
    await Promise.all(daemons.map((d) => d.stop()));
    await root?.end();
    await server?.stop();
    await closeRegistry();
  });

  it("refuses binlog_format=STATEMENT: validate prints the fix and exits 1, and run stops the connector with the message", async () => {
    await root.query("SET GLOBAL binlog_format = 'STATEMENT'");
    try {
      const name = uniqueName("binlog_format");
      const dir = mkdtempSync(join(tmpdir(), "liberator-validate-"));
      const file = join(dir, "connectors.yaml");
      writeFileSync(file, stringify({ kafka: { brokers: harness().kafka.brokers }, connectors: [connector(name)] }));
      const validate = spawnSync(process.execPath, ["--import", "tsx", join(repoRoot, "src/cli.ts"), "validate", "-c", file], { cwd: repoRoot, encoding: "utf8" });
      expect(validate.status, validate.stderr).toBe(1);
      expect(validate.stdout).toMatch(/FAIL connector ".*": binlog_format: binlog_format is STATEMENT, the connector needs ROW/);
      expect(validate.stdout).toMatch(/fix: SET GLOBAL binlog_format = 'ROW'.*my\.cnf/);

      const d = await daemon([connector(name)]);
      const error = await failedWith(d, name);
      expect(error?.code).toBe("BINLOG_FORMAT_NOT_ROW");
      expect(error?.message).toMatch(/binlog_format is STATEMENT.*SET GLOBAL binlog_format = 'ROW'/);
    } finally {
      await root.query("SET GLOBAL binlog_format = 'ROW'");
    }
  });

  it("refuses MINIMAL row metadata at start, naming the setting to change", async () => {
    await root.query("SET GLOBAL binlog_row_metadata = 'MINIMAL'");
    try {
      const config = binlogSpec.config.parse(connector(uniqueName("minimal")));
      const checks = await binlogSpec.preflight!(config, { connector: "minimal", log: testContext("minimal").log });
      expect(checks.find((c) => c.check === "binlog_row_metadata")).toMatchObject({ ok: false, fix: expect.stringMatching(/binlog_row_metadata = 'FULL'/) });
      const source = binlogSpec.kind === "source" ? binlogSpec.create(config, testContext(config.name)) : undefined;
      await expect(source!.open(null)).rejects.toMatchObject({ code: "BINLOG_ROW_METADATA_NOT_FULL", retriable: false });
      await source!.close();
    } finally {
      await root.query("SET GLOBAL binlog_row_metadata = 'FULL'");
    }
  });

  it("passes a user with exactly the documented grants, and warns of the keyless table only", async () => {
    const user = uniqueName("cdc");
    await root.query("CREATE TABLE shop.keyless_log (line TEXT)");
    // docs/binlog.md, the privileges row
    await root.query(`CREATE USER '${user}'@'%' IDENTIFIED BY 'pw'; GRANT SELECT, REPLICATION SLAVE, BINLOG MONITOR ON *.* TO '${user}'@'%'`);
    try {
      const config = binlogSpec.config.parse({ ...connector(uniqueName("grants")), connection: { host: server.host, port: server.port, user, password: "pw" } });
      const checks = await binlogSpec.preflight!(config, { connector: config.name, log: testContext(config.name).log });
      expect(checks.filter((c) => !c.ok)).toEqual([]);
      const keys = checks.filter((c) => c.check === "keys");
      expect(keys).toHaveLength(1);
      expect(keys[0]!.message).toMatch(/^shop\.keyless_log has no primary key/);
    } finally {
      await root.query(`DROP USER '${user}'@'%'; DROP TABLE shop.keyless_log`);
    }
  });

  it("stops with the missing file named when its position was purged, and copies the tables again under when_needed", async () => {
    const name = uniqueName("binlog_purged");
    const topic = `${name}.shop.orders`;
    const first = await daemon([connector(name)]);
    await untilStreaming(first, name);
    await root.query("INSERT INTO shop.orders VALUES (3, 29.99)");
    await readChanges(topic, 3);
    const [[{ File: file }]] = (await root.query<RowDataPacket[]>("SHOW MASTER STATUS")) as unknown as [[{ File: string }]];
    await first.stop();

    // MariaDB keeps a file until InnoDB's checkpoint has moved past it: flush and purge until it is gone
    await waitFor(async () => {
      await root.query("FLUSH BINARY LOGS");
      const [[{ File: newest }]] = (await root.query<RowDataPacket[]>("SHOW MASTER STATUS")) as unknown as [[{ File: string }]];
      await root.query(`PURGE BINARY LOGS TO '${newest}'`);
      const [logs] = await root.query<RowDataPacket[]>("SHOW BINARY LOGS");
      return !logs.some((l) => l.Log_name === file);
    }, { timeoutMs: 20_000, intervalMs: 500, message: `${file} to be purged` });
    await root.query("INSERT INTO shop.orders VALUES (4, 39.99)");

    const again = await daemon([connector(name)]);
    const error = await failedWith(again, name);
    expect(error?.code).toBe("BINLOG_POSITION_PURGED");
    expect(error?.message).toContain(`binlog file ${file} was purged`);
    expect(error?.message).toMatch(/when_needed.*liberator offsets reset/);
    await again.stop();

    const resync = await daemon([connector(name, { snapshot: { mode: "when_needed" } })]);
    await untilStreaming(resync, name);
    const changes = await readChanges(topic, 3 + 4);
    const reads = changes.filter((c) => c.value?.op === "r").map((c) => c.value!.after!.id);
    expect(reads.slice(-4).sort()).toEqual([1, 2, 3, 4]);
  });
});
