import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import mysql from "mysql2/promise";
import type { Certificates } from "./certs.js";
import { templatesDir } from "./paths.js";
import { freePort } from "./ports.js";
import {
  copyDir,
  isRoot,
  makeTempDir,
  removeDir,
  publishTemplate,
  run,
  spawnServer,
  waitUntilReady,
  withPortRetry,
  restartable,
  type Restartable,
  type ServerProcess,
} from "./process.js";

export interface MariaDBOptions {
  /** `server_id`; a binlog reader must use a different one. */
  serverId?: number;
  /**
   * Appended to the server's command line, after the harness's own flags, so they win:
   * e.g. `["--binlog-row-metadata=MINIMAL"]` for a test of what a source refuses.
   */
  extraArgs?: string[];
  readyTimeoutMs?: number;
  /** Accepts TLS with this certificate and key (made by makeCertificates); plain connections still work. */
  tls?: Pick<Certificates, "caFile" | "certFile" | "keyFile">;
}

export interface MariaDBConnection {
  host: string;
  port: number;
  user: string;
  password: string;
}

export interface MariaDBServer extends MariaDBConnection, Restartable {
  /** Unix socket, for tools that prefer it. */
  readonly socket: string;
  readonly version: string;
  readonly process: ServerProcess;
  stop(): Promise<void>;
}

/*
 * Flags shared by mariadb-install-db and the server: the redo log size is fixed at install time,
 * and a template made with other values must not be reused, hence the hash in its name.
 */
const STORAGE_FLAGS = ["--innodb-log-file-size=64M"];

async function serverVersion(): Promise<string> {
  const out = await run("mariadbd", ["--version"]);
  // "mariadbd  Ver 10.11.19-MariaDB-0+deb12u1 for debian-linux-gnu on x86_64 (Debian 12)"
  const match = /Ver\s+(\S+)/.exec(out);
  return match?.[1] ?? "unknown";
}

function rootFlag(): string[] {
  // mariadbd refuses to run as root unless told to; as any other user it runs as that user
  return isRoot() ? ["--user=root"] : [];
}

/**
 * A fresh data dir: a copy of the cached template for this server version, or, the first time,
 * mariadb-install-db (then cached). Copying is ~20 ms, installing ~0.5 s.
 */
async function prepareDataDir(dataDir: string, version: string): Promise<void> {
  const key = createHash("sha256").update(JSON.stringify([version, STORAGE_FLAGS, rootFlag()])).digest("hex").slice(0, 10);
  const template = path.join(templatesDir, `mariadb-${version}-${key}`);
  if (fs.existsSync(template)) {
    try {
      await copyDir(template, dataDir);
      return;
    } catch {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  }
  // With "normal" root authentication, install-db creates root@localhost, root@127.0.0.1 and
  // root@::1 with an empty password: all a test needs, over TCP or the socket.
  const install = () =>
    run("mariadb-install-db", ["--no-defaults", `--datadir=${dataDir}`, "--auth-root-authentication-method=normal", "--skip-test-db", ...rootFlag(), ...STORAGE_FLAGS]);
  await install().catch(async (first: Error) => {
    // seen once in a CI run, with no word of the server's: what it left in the data dir is kept in
    // the error, and a second install into a fresh dir tells a passing fault from a lasting one
    const left = errorLogs(dataDir);
    fs.rmSync(dataDir, { recursive: true, force: true });
    await install().catch((second: Error) => {
      throw new Error(`mariadb-install-db failed twice:
${first.message}
${left}
then:
${second.message}
${errorLogs(dataDir)}`);
    });
  });
  await publishTemplate(dataDir, template);
}

/** The tail of each error log the server wrote into a data dir (`*.err`), for a failed install. */
function errorLogs(dataDir: string): string {
  const files = fs.existsSync(dataDir) ? fs.readdirSync(dataDir).filter((f) => f.endsWith(".err")) : [];
  if (files.length === 0) return "(no error log in the data dir)";
  return files.map((f) => `${f}:\n${fs.readFileSync(path.join(dataDir, f), "utf8").split("\n").slice(-30).join("\n")}`).join("\n");
}

/** Whether the server takes a connection and answers SELECT 1 now. */
export async function mariadbAnswers(connection: MariaDBConnection, timeoutMs = 2000): Promise<boolean> {
  const conn = await mysql.createConnection({ ...connection, connectTimeout: timeoutMs });
  try {
    await conn.query("SELECT 1");
    return true;
  } finally {
    await conn.end();
  }
}

async function startOnce(options: MariaDBOptions): Promise<MariaDBServer> {
  const [port, dir, version] = await Promise.all([freePort(), makeTempDir("mariadb"), serverVersion()]);
  try {
    const dataDir = path.join(dir, "data");
    const socket = path.join(dir, "mysqld.sock");
    await prepareDataDir(dataDir, version);
    const server = spawnServer({
      name: "mariadb",
      command: "mariadbd",
      args: [
        "--no-defaults",
        ...rootFlag(),
        `--datadir=${dataDir}`,
        `--socket=${socket}`,
        `--port=${port}`,
        "--bind-address=127.0.0.1",
        `--pid-file=${path.join(dir, "mysqld.pid")}`,
        // no --log-error: the error log goes to stderr, which lands in server.log
        "--log-bin=mysql-bin",
        "--binlog-format=ROW",
        "--binlog-row-image=FULL",
        "--binlog-row-metadata=FULL",
        `--server-id=${options.serverId ?? 1}`,
        "--skip-name-resolve",
        // utf8mb4 as MariaDB 11.6+ defaults to; 10.11 would make tables latin1 unless told
        "--character-set-server=utf8mb4",
        "--collation-server=utf8mb4_unicode_ci",
        // speed over durability: the data lives for one test run
        "--innodb-buffer-pool-size=128M",
        "--innodb-flush-log-at-trx-commit=2",
        "--innodb-doublewrite=0",
        "--sync-binlog=0",
        "--max-connections=500",
        // the lock listing the query source's horizon reads (docs/query.md, the safe horizon)
        "--plugin-load-add=metadata_lock_info",
        ...STORAGE_FLAGS,
        ...(options.tls ? [`--ssl-ca=${options.tls.caFile}`, `--ssl-cert=${options.tls.certFile}`, `--ssl-key=${options.tls.keyFile}`] : []),
        ...(options.extraArgs ?? []),
      ],
      dir,
      logFile: path.join(dir, "server.log"),
      stopSignal: "SIGTERM",
      stopTimeoutMs: 5000,
    });
    const connection: MariaDBConnection = { host: "127.0.0.1", port, user: "root", password: "" };
    try {
      await waitUntilReady(server, () => mariadbAnswers(connection), { timeoutMs: options.readyTimeoutMs ?? 60_000, intervalMs: 50 });
    } catch (error) {
      await server.stop();
      throw error;
    }
    return { ...connection, socket, version, process: server, stop: () => server.stop(), ...restartable(server, () => mariadbAnswers(connection), options.readyTimeoutMs ?? 60_000) };
  } catch (error) {
    await removeDir(dir);
    throw error;
  }
}

/**
 * Starts a private MariaDB with the binlog on (ROW, FULL image, FULL metadata) and the
 * METADATA_LOCK_INFO plugin loaded, in a fresh temporary folder on a free port; resolves when root
 * can run a query over TCP.
 */
export function startMariaDB(options: MariaDBOptions = {}): Promise<MariaDBServer> {
  return withPortRetry(() => startOnce(options));
}
