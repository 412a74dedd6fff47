import { timingSafeEqual } from "node:crypto";
import Fastify, { type FastifyInstance, type FastifyPluginAsync } from "fastify";
import type { Logger } from "../log.js";
import type { Metrics } from "../metrics.js";

export interface AdminServerOptions {
  host: string;
  port: number;
  log: Logger;
  metrics: Metrics;
  /** Every connector is up (running, paused or finished). */
  ready(): boolean;
  /** What /readyz shows when not ready. */
  readiness(): unknown;
  /** Bearer token for everything but the probes and /metrics. */
  token?: string | undefined;
  /** More routes: the connector API, the schema registry API. */
  plugins?: FastifyPluginAsync[];
}

const OPEN_PATHS = new Set(["/healthz", "/readyz", "/metrics"]);

/**
 * The admin HTTP server: probes, Prometheus metrics, and whatever plugins add. Probes and metrics
 * stay open so Kubernetes and Prometheus need no secret; the rest takes the bearer token if set.
 */
export async function startAdminServer(options: AdminServerOptions): Promise<FastifyInstance> {
  const app = Fastify({ logger: false, forceCloseConnections: true });
  if (options.token) {
    const expected = Buffer.from(`Bearer ${options.token}`);
    app.addHook("onRequest", async (request, reply) => {
      if (OPEN_PATHS.has(request.url.split("?")[0]!)) return;
      const got = Buffer.from(request.headers.authorization ?? "");
      if (got.length !== expected.length || !timingSafeEqual(got, expected)) {
        await reply.code(401).send({ error_code: 401, message: "missing or wrong bearer token" });
      }
    });
  }
  app.get("/healthz", async () => ({ status: "ok" }));
  app.get("/readyz", async (_req, reply) => {
    const ok = options.ready();
    return reply.code(ok ? 200 : 503).send({ status: ok ? "ready" : "not ready", connectors: options.readiness() });
  });
  app.get("/metrics", async (_req, reply) => {
    const body = await options.metrics.registry.metrics();
    return reply.type(options.metrics.registry.contentType).send(body);
  });
  for (const plugin of options.plugins ?? []) await app.register(plugin);
  await app.listen({ host: options.host, port: options.port });
  const address = app.server.address();
  options.log.info({ address }, "admin API listening");
  return app;
}
