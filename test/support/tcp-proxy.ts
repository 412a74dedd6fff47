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
  const server = net.createServer((client) => {
    if (isCut) {
      client.resetAndDestroy();
      return;
    }
    const upstream = net.connect({ host: target.host, port: target.port });
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
