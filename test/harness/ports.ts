import fs from "node:fs";
import net from "node:net";

/*
 * Ports already handed out by this process. Two back-to-back probes may find the same port free
 * once the first probe socket is closed, and servers started in parallel would then collide;
 * remembering them avoids that within one process.
 */
const handedOut = new Set<number>();

/**
 * The range the kernel takes the source port of every outgoing connection from. A server's port
 * inside it can be given to some other connection on the machine while the server is down (the
 * fault tests restart servers on their ports): the restarted server then cannot bind it, and a
 * broker exits with "Socket server failed to bind … Address already in use".
 */
function ephemeralRange(): { low: number; high: number } {
  try {
    const [low, high] = fs.readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/).map(Number);
    if (low && high) return { low, high };
  } catch {
    // not Linux: the IANA range, which macOS and Windows use
  }
  return { low: 49152, high: 65535 };
}

/** Below the ephemeral range, and above the usual fixed ports of servers (3306, 5432, 6379, 9092…). */
const LOWEST = 20_000;

function probe(port: number): Promise<number> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.unref();
    server.once("error", () => resolve(0));
    server.listen({ host: "127.0.0.1", port, exclusive: true }, () => {
      const address = server.address();
      const bound = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(bound));
    });
  });
}

/**
 * A TCP port on 127.0.0.1 that was free a moment ago, outside the kernel's ephemeral range when
 * there is room below it (see ephemeralRange), so that a server restarted on it finds it free.
 * Another process can still take it before the server binds it; the start functions retry with
 * fresh ports when a bind fails.
 */
export async function freePort(): Promise<number> {
  const { low } = ephemeralRange();
  const span = low - LOWEST;
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = await probe(span > 1000 ? LOWEST + Math.floor(Math.random() * span) : 0);
    if (port > 0 && !handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error("no free TCP port found on 127.0.0.1");
}

/** True when something accepts TCP connections on host:port. */
export function portAccepts(port: number, host = "127.0.0.1", timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
  });
}
