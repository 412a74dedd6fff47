import { execFile, spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { createDatabase, dropDatabase, freePort, harness, waitFor } from "../../harness/index.js";
import { repoRoot } from "../../harness/paths.js";

const run = promisify(execFile);
const version = (JSON.parse(readFileSync(path.join(repoRoot, "package.json"), "utf8")) as { version: string }).version;

/**
 * What a user does to get `liberator` on PATH (the README's Install section): pack, then install
 * the tarball globally. The tarball must carry the compiled code, the status page and the patches,
 * and install with nothing but the registry's packages; `--prefer-offline` takes them from npm's
 * cache, which `npm ci` filled.
 */
describe("install: npm pack, then npm install -g of the tarball", () => {
  const tmp = fs.mkdtemp(path.join(os.tmpdir(), "liberator-install-"));
  let database: string | undefined;

  afterAll(async () => {
    await fs.rm(await tmp, { recursive: true, force: true });
    if (database) await dropDatabase("postgres", database);
  });

  it("gives a working liberator that reports its version and validates the demo's config against live servers", async () => {
    const dir = await tmp;
    const prefix = path.join(dir, "prefix");
    const packed = await run("npm", ["pack", "--pack-destination", dir], { cwd: repoRoot, maxBuffer: 64 << 20 });
    const tarball = path.join(dir, packed.stdout.trim().split("\n").pop()!);
    await run("npm", ["install", "-g", "--prefix", prefix, "--prefer-offline", "--no-audit", "--no-fund", tarball], {
      cwd: dir,
      maxBuffer: 64 << 20,
    });
    const liberator = path.join(prefix, "bin", "liberator");

    const shown = await run(liberator, ["--version"], { cwd: dir });
    expect(shown.stdout.trim()).toBe(version);

    const { kafka, mariadb, postgres } = harness();
    database = await createDatabase("postgres");
    const env = {
      ...process.env,
      KAFKA_BROKERS: kafka.brokers.join(","),
      MARIADB_HOST: mariadb.host,
      MARIADB_PORT: String(mariadb.port),
      MARIADB_USER: mariadb.user,
      MARIADB_PASSWORD: mariadb.password,
      POSTGRES_HOST: postgres.host,
      POSTGRES_PORT: String(postgres.port),
      POSTGRES_USER: postgres.user,
      POSTGRES_PASSWORD: postgres.password,
      POSTGRES_DATABASE: database,
    };
    // run from outside the checkout, so only the installed copy and its own node_modules are used
    const validated = await run(liberator, ["validate", "-c", path.join(repoRoot, "connectors.yaml")], { cwd: dir, env }).catch(
      (err: { stdout: string; stderr: string; code: number }) => err,
    );
    const output = `${validated.stdout}${validated.stderr}`;
    expect(output, output).not.toMatch(/^FAIL/m);
    expect(output).toMatch(/^ok {3}connector "shop-cdc": binlog_format/m);
    expect(output).toMatch(/^ok {3}connector "shop-to-postgres"/m);
    expect("code" in validated ? validated.code : 0, output).toBe(0);

    // the installed daemon (dist/) finds the status page's files and serves them
    const port = await freePort();
    const config = path.join(dir, "page.yaml");
    writeFileSync(config, stringify({ kafka: { brokers: kafka.brokers, topics: { replicationFactor: 1 } }, admin: { host: "127.0.0.1", port, auth: "none" }, connectors: [] }));
    const daemon = spawn(liberator, ["run", "-c", config], { cwd: dir, stdio: "ignore" });
    try {
      const page = await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/`).catch(() => undefined))?.text(), { timeoutMs: 60_000, message: "the installed daemon's status page" });
      expect(page).toContain("<title>Liberator status</title>");
      const script = await fetch(`http://127.0.0.1:${port}/status-page/page.js`);
      expect(script.headers.get("content-type")).toContain("text/javascript");
      expect(await script.text()).toContain("/status/stream");
    } finally {
      const exited = new Promise((resolve) => daemon.once("exit", resolve));
      daemon.kill("SIGTERM");
      await exited;
    }
  }, 300_000);
});
