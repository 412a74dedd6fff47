import net from "node:net";

export interface TcpProxy {
  readonly host: string;
  /** Where clients connect instead of the server. */
  readonly port: number;
  /** The server behind it. */
  readonly target: { host: string; port: number };
  /** Connections passing through now. */
  connections(): number;
  /**
   * The proxy's connections to the server so far, by how they went: "connected", "closed by the
   * server", or the error code of those that failed (ECONNREFUSED: nothing listened). It tells a
   * server that is not there from one that hangs up on its clients, which look alike to them.
   */
  upstream(): Record<string, number>;
  /**
   * The network between the clients and the server goes: every open connection is reset (the
   * client gets ECONNRESET, the server sees its client vanish), and each new one is reset as soon
   * as it is accepted, until restore(). The port keeps listening, so no other process can take it
   * meanwhile.
   */
  cut(): void;
  /** New connections go through again. */
  restore(): void;
  close(): Promise<void>;
}

/**
 * A TCP proxy in front of one server, for tests that cut the network between Liberator and that
 * server and restore it, without root or a tool to install: Liberator is given the proxy's port,
 * the test's own clients connect to the server directly.
 */
export async function startTcpProxy(target: { host: string; port: number }, listen: { host?: string; port?: number } = {}): Promise<TcpProxy> {
  const host = listen.host ?? "127.0.0.1";
  const pairs = new Set<{ client: net.Socket; upstream: net.Socket }>();
  let isCut = false;
  const upstreamCounts: Record<string, number> = {};
  const count = (what: string) => (upstreamCounts[what] = (upstreamCounts[what] ?? 0) + 1);
  const server = net.createServer((client) => {
    if (isCut) {
      client.resetAndDestroy();
      return;
    }
    const upstream = net.connect({ host: target.host, port: target.port });
    upstream.once("connect", () => count("connected"));
    upstream.once("end", () => count("closed by the server"));
    upstream.once("error", (error: NodeJS.ErrnoException) => count(error.code ?? error.message));
    const pair = { client, upstream };
    pairs.add(pair);
    // a server that is down looks to the client like a connection closed at once, as with a
    // real network path in between
    const close = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    for (const s of [client, upstream]) {
      s.setNoDelay(true);
      s.on("error", close);
      s.on("close", close);
    }
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen({ host, port: listen.port ?? 0 }, resolve);
  });
  const { port } = server.address() as net.AddressInfo;
  return {
    host,
    port,
    target: { host: target.host, port: target.port },
    connections: () => pairs.size,
    upstream: () => ({ ...upstreamCounts }),
    cut() {
      isCut = true;
      for (const { client, upstream } of pairs) {
        client.resetAndDestroy();
        upstream.resetAndDestroy();
      }
      pairs.clear();
    },
    restore() {
      isCut = false;
    },
    async close() {
      for (const { client, upstream } of pairs) {
        client.destroy();
        upstream.destroy();
      }
      pairs.clear();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
