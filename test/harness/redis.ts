import net from "node:net";
import path from "node:path";
import { freePort } from "./ports.js";
import { makeTempDir, removeDir, spawnServer, waitUntilReady, withPortRetry, type ServerProcess } from "./process.js";

export interface RedisServer {
  url: string;
  /** Absent when the machine's own Redis is used: then there is nothing to stop. */
  readonly process?: ServerProcess;
  stop(): Promise<void>;
}

export interface RedisOptions {
  /** Try the machine's Redis first (default 127.0.0.1:6379); set false to always start a private one. */
  machine?: { host: string; port: number } | false;
}

/** Sends PING with a raw socket: no client library and its reconnect loops for a yes/no question. */
export function redisPing(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    let reply = "";
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once("error", () => done(false));
    socket.once("connect", () => socket.write("PING\r\n"));
    socket.on("data", (chunk) => {
      reply += chunk.toString("latin1");
      if (reply.includes("\r\n")) done(reply.startsWith("+PONG"));
    });
  });
}

/** Host and port of a redis:// URL. */
export function parseRedisUrl(url: string): { host: string; port: number } {
  const parsed = new URL(url);
  return { host: parsed.hostname, port: Number(parsed.port || 6379) };
}

async function startPrivate(): Promise<RedisServer> {
  const [port, dir] = await Promise.all([freePort(), makeTempDir("redis")]);
  try {
    const server = spawnServer({
      name: "redis",
      command: "redis-server",
      args: [
        "--port", String(port),
        "--bind", "127.0.0.1",
        "--dir", dir,
        "--save", "",
        "--appendonly", "no",
        "--daemonize", "no",
        // BullMQ loses jobs under any eviction policy
        "--maxmemory-policy", "noeviction",
      ],
      dir,
      logFile: path.join(dir, "server.log"),
      stopSignal: "SIGTERM",
      stopTimeoutMs: 3000,
    });
    try {
      await waitUntilReady(server, () => redisPing("127.0.0.1", port), { timeoutMs: 20_000, intervalMs: 50 });
    } catch (error) {
      await server.stop();
      throw error;
    }
    return { url: `redis://127.0.0.1:${port}`, process: server, stop: () => server.stop() };
  } catch (error) {
    await removeDir(dir);
    throw error;
  }
}

/**
 * The machine's Redis when it answers (it runs on developer machines and in CI), else a private
 * redis-server on a free port. Tests share it, so each test file uses its own key prefix
 * (`uniqueName`) or database number.
 */
export async function startRedis(options: RedisOptions = {}): Promise<RedisServer> {
  const machine = options.machine ?? { host: "127.0.0.1", port: 6379 };
  if (machine && (await redisPing(machine.host, machine.port))) {
    return { url: `redis://${machine.host}:${machine.port}`, stop: async () => {} };
  }
  return withPortRetry(startPrivate);
}
