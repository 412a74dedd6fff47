import { createHash } from "node:crypto";
import fs from "node:fs";
import fsp from "node:fs/promises";
import path from "node:path";
import pg from "pg";
import type { Certificates } from "./certs.js";
import { templatesDir } from "./paths.js";
import { freePort } from "./ports.js";
import {
  copyDir,
  isRoot,
  lookupUser,
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

export interface PostgresOptions {
  /** Extra `-c name=value` settings, after the harness's own, so they win. */
  settings?: Record<string, string | number | boolean>;
  readyTimeoutMs?: number;
  /** Accepts TLS (`ssl=on`) with this certificate and key (made by makeCertificates); plain connections still work. */
  tls?: Pick<Certificates, "certFile" | "keyFile">;
}

export interface PostgresConnection {
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
}

export interface PostgresServer extends PostgresConnection, Restartable {
  /** Folder of the Unix socket. */
  readonly socketDir: string;
  readonly version: string;
  readonly process: ServerProcess;
  stop(): Promise<void>;
}

const INITDB_FLAGS = ["-A", "trust", "-U", "postgres", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"];

/** initdb and postgres refuse to run as root; as root they run as the `postgres` system user. */
async function runAsUser(): Promise<{ uid: number; gid: number } | undefined> {
  if (!isRoot()) return undefined;
  try {
    return await lookupUser("postgres");
  } catch {
    throw new Error("running as root, PostgreSQL needs a `postgres` system user to run as (apt-get install -y postgresql creates it)");
  }
}

/*
 * A PostgreSQL binary: from PATH when it is there, else from Debian's versioned folders (which
 * are not on PATH by default), newest first.
 */
function bin(name: string): string {
  for (const dir of (process.env.PATH ?? "").split(path.delimiter)) {
    if (dir && fs.existsSync(path.join(dir, name))) return path.join(dir, name);
  }
  const root = "/usr/lib/postgresql";
  const versions = fs.existsSync(root) ? fs.readdirSync(root).sort((a, b) => Number(b) - Number(a)) : [];
  for (const version of versions) {
    const candidate = path.join(root, version, "bin", name);
    if (fs.existsSync(candidate)) return candidate;
  }
  return name;
}

async function serverVersion(): Promise<string> {
  const out = await run(bin("postgres"), ["--version"]);
  // "postgres (PostgreSQL) 15.20 (Debian 15.20-0+deb12u1)"
  return /\)\s+(\S+)/.exec(out)?.[1] ?? "unknown";
}

/**
 * A fresh cluster: a copy of the cached template for this server version, or, the first time,
 * initdb (then cached). Copying is ~40 ms, initdb ~0.5 s.
 */
async function prepareDataDir(dataDir: string, version: string, user: { uid: number; gid: number } | undefined): Promise<void> {
  const key = createHash("sha256").update(JSON.stringify([version, INITDB_FLAGS, user ?? null])).digest("hex").slice(0, 10);
  const template = path.join(templatesDir, `postgres-${version}-${key}`);
  if (fs.existsSync(template)) {
    try {
      await copyDir(template, dataDir);
      return;
    } catch {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  }
  await run(bin("initdb"), ["-D", dataDir, ...INITDB_FLAGS], { user });
  await publishTemplate(dataDir, template);
}

/** Whether the server takes a connection and answers SELECT 1 now. */
export async function postgresAnswers(connection: PostgresConnection, timeoutMs = 2000): Promise<boolean> {
  const client = new pg.Client({ ...connection, connectionTimeoutMillis: timeoutMs });
  await client.connect();
  try {
    await client.query("SELECT 1");
    return true;
  } finally {
    await client.end();
  }
}

/**
 * The server's own copies of the certificate and key: it refuses a key that others may read or
 * another user owns, and as root it runs as `postgres`, who cannot read the certificates' folder.
 */
async function tlsSettings(dir: string, tls: NonNullable<PostgresOptions["tls"]>, user: { uid: number; gid: number } | undefined) {
  const cert = path.join(dir, "server.pem");
  const key = path.join(dir, "server.key");
  await fsp.copyFile(tls.certFile, cert);
  await fsp.copyFile(tls.keyFile, key);
  await fsp.chmod(key, 0o600);
  if (user) for (const file of [cert, key]) await fsp.chown(file, user.uid, user.gid);
  return { ssl: "on", ssl_cert_file: cert, ssl_key_file: key };
}

async function startOnce(options: PostgresOptions): Promise<PostgresServer> {
  const user = await runAsUser();
  const [port, dir, version] = await Promise.all([freePort(), makeTempDir("postgres"), serverVersion()]);
  try {
    // the server's user must own the folder that holds its data dir and socket
    if (user) await fsp.chown(dir, user.uid, user.gid);
    const dataDir = path.join(dir, "data");
    await prepareDataDir(dataDir, version, user);
    const settings: Record<string, string | number | boolean> = {
      listen_addresses: "127.0.0.1",
      unix_socket_directories: dir,
      wal_level: "logical",
      max_wal_senders: 10,
      max_replication_slots: 10,
      max_connections: 200,
      // speed over durability: the data lives for one test run
      fsync: "off",
      synchronous_commit: "off",
      full_page_writes: "off",
      log_checkpoints: "off",
      ...(options.tls ? await tlsSettings(dir, options.tls, user) : {}),
      ...options.settings,
    };
    const server = spawnServer({
      name: "postgres",
      command: bin("postgres"),
      args: ["-D", dataDir, "-p", String(port), ...Object.entries(settings).flatMap(([k, v]) => ["-c", `${k}=${String(v)}`])],
      dir,
      logFile: path.join(dir, "server.log"),
      user,
      // SIGTERM is a "smart" shutdown that waits for every client to leave; SIGINT does not wait
      stopSignal: "SIGINT",
      stopTimeoutMs: 5000,
    });
    const connection: PostgresConnection = { host: "127.0.0.1", port, user: "postgres", password: "", database: "postgres" };
    try {
      await waitUntilReady(server, () => postgresAnswers(connection), { timeoutMs: options.readyTimeoutMs ?? 60_000, intervalMs: 50 });
    } catch (error) {
      await server.stop();
      throw error;
    }
    return { ...connection, socketDir: dir, version, process: server, stop: () => server.stop(), ...restartable(server, () => postgresAnswers(connection), options.readyTimeoutMs ?? 60_000) };
  } catch (error) {
    await removeDir(dir);
    throw error;
  }
}

/**
 * Starts a private PostgreSQL with `wal_level=logical`, in a fresh temporary folder on a free
 * port; resolves when `postgres` can run a query over TCP (trust authentication, no password).
 */
export function startPostgres(options: PostgresOptions = {}): Promise<PostgresServer> {
  return withPortRetry(() => startOnce(options));
}
