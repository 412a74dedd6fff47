import fs from "node:fs";
import net from "node:net";
import { describe, expect, it } from "vitest";
import { freePort } from "../../harness/ports.js";

const RANGE = "/proc/sys/net/ipv4/ip_local_port_range";
/** The kernel's ephemeral range where it can be read (Linux), when it leaves room below it. */
const ephemeral = (() => {
  if (!fs.existsSync(RANGE)) return undefined;
  const [low, high] = fs.readFileSync(RANGE, "utf8").trim().split(/\s+/).map(Number);
  return low! > 21_000 ? { low: low!, high: high! } : undefined;
})();

describe("freePort", () => {
  it("hands out distinct ports that a server can bind", async () => {
    const ports = await Promise.all(Array.from({ length: 8 }, () => freePort()));
    expect(new Set(ports).size).toBe(ports.length);
    for (const port of ports) {
      const server = net.createServer();
      await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen({ host: "127.0.0.1", port, exclusive: true }, resolve);
      });
      await new Promise((resolve) => server.close(resolve));
    }
  });

  // a port the kernel may give an outgoing connection could be taken while a restarted server is down
  it.runIf(ephemeral)("keeps out of the kernel's ephemeral range", async () => {
    const { low, high } = ephemeral!;
    for (let i = 0; i < 8; i++) {
      const port = await freePort();
      expect(port < low || port > high, `port ${port} in ${low}-${high}`).toBe(true);
    }
  });
});
