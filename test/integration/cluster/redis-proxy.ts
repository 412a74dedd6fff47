import net from "node:net";

export interface FreezableProxy {
  /** A redis:// URL that goes through the proxy. */
  url: string;
  /** Stops moving bytes either way while keeping every connection open: a hung network. */
  freeze(): void;
  thaw(): void;
  close(): Promise<void>;
}

/**
 * A TCP proxy in front of Redis that can hang without closing anything, the way a stuck network
 * path does: commands are sent and never answered, and no error reaches the client.
 */
export async function startFreezableProxy(redisUrl: string): Promise<FreezableProxy> {
  const target = new URL(redisUrl);
  const sockets = new Set<net.Socket>();
  let frozen = false;
  const track = (s: net.Socket) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
    s.on("error", () => s.destroy());
    if (frozen) s.pause();
  };
  const server = net.createServer((client) => {
    const upstream = net.connect({ host: target.hostname, port: Number(target.port || 6379) });
    track(client);
    track(upstream);
    client.pipe(upstream);
    upstream.pipe(client);
    client.on("close", () => upstream.destroy());
    upstream.on("close", () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `redis://127.0.0.1:${port}${target.pathname}`,
    freeze: () => {
      frozen = true;
      for (const s of sockets) s.pause();
    },
    thaw: () => {
      frozen = false;
      for (const s of sockets) s.resume();
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
