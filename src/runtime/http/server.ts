import Fastify, { type FastifyInstance, type FastifyPluginAsync } from "fastify";
import type { Logger } from "../log.js";
import { adminAuthHook, type AdminAuth } from "./admin-auth.js";
import type { Metrics } from "../metrics.js";

export interface AdminServerOptions extends AdminAuth {
  port: number;
  log: Logger;
  metrics: Metrics;
  /** Every connector is up (running, paused or finished). */
  ready(): boolean;
  /** What /readyz shows when not ready. */
  readiness(): unknown;
  /** More routes: the connector API, the schema registry API. */
  plugins?: FastifyPluginAsync[];
}

/**
 * The admin HTTP server: probes, Prometheus metrics, and whatever plugins add. Probes and metrics
 * stay open so Kubernetes and Prometheus need no secret; admin-auth.ts says who may do the rest.
 */
export async function startAdminServer(options: AdminServerOptions): Promise<FastifyInstance> {
  const app = Fastify({ logger: false, forceCloseConnections: true, schemaController: { compilersFactory: { buildValidator: noSchemas, buildSerializer: noSchemas } } });
  const auth = adminAuthHook(options);
  if (auth) app.addHook("onRequest", auth);
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

/**
 * The admin API declares no JSON schemas, so Fastify's own compilers (Ajv and fast-json-stringify,
 * some 240 modules and 7 MB of a worker's memory, which it loads at start whatever the routes) are
 * replaced by one that refuses: a route given a schema fails at start, saying why.
 */
function noSchemas() {
  return (): never => {
    throw new Error("the admin API compiles no JSON schemas (runtime/http/server.ts): check the input in the handler");
  };
}
