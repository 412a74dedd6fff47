/**
 * Everything an operator looks at, as data: `GET /status` is one JSON document of every connector's
 * state, progress, lag, rates, last error and schemas; `GET /status/stream` sends the same document
 * as server-sent events each time it changes. In cluster mode `control` asks every worker, so any
 * worker's port shows the whole cluster. Reads follow admin-auth.ts like the connector API.
 */
import type { FastifyPluginAsync } from "fastify";
import { statusDocument, type ConnectorControl, type StatusDocument } from "../control.js";
import { toLiberatorError } from "../errors.js";
import { errorBody } from "./connector-routes.js";

/** How often a stream looks for changes, unless the client asks (`?everyMs=`) within the bounds. */
const STREAM_EVERY_MS = 1000;
const STREAM_MIN_MS = 200;
const STREAM_MAX_MS = 10_000;
/** A comment line this often keeps proxies from closing a quiet stream. */
const KEEPALIVE_MS = 15_000;

export function statusRoutes(control: ConnectorControl): FastifyPluginAsync {
  return async (app) => {
    app.get("/status", async (_req, reply) => {
      try {
        return await statusDocument(control);
      } catch (err) {
        return reply.code(503).send(errorBody(toLiberatorError(err)));
      }
    });

    app.get<{ Querystring: { everyMs?: string } }>("/status/stream", (req, reply) => {
      const asked = Number(req.query.everyMs);
      const everyMs = Number.isFinite(asked) && asked > 0 ? Math.min(STREAM_MAX_MS, Math.max(STREAM_MIN_MS, asked)) : STREAM_EVERY_MS;
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive", "x-accel-buffering": "no" });
      let last = "";
      let quietSince = Date.now();
      let busy = false;
      const send = async () => {
        if (busy || res.destroyed) return;
        busy = true;
        try {
          const doc = await statusDocument(control).catch((err: unknown) => ({ error: errorBody(toLiberatorError(err)) }));
          const facts = JSON.stringify(withoutTime(doc));
          if (facts !== last) {
            last = facts;
            quietSince = Date.now();
            res.write(`event: status\ndata: ${JSON.stringify(doc)}\n\n`);
          } else if (Date.now() - quietSince >= KEEPALIVE_MS) {
            quietSince = Date.now();
            res.write(": keep-alive\n\n");
          }
        } finally {
          busy = false;
        }
      };
      const timer = setInterval(() => void send(), everyMs);
      res.on("close", () => clearInterval(timer));
      void send();
    });
  };
}

/** The document without its time stamp: a stream sends only what changed. */
function withoutTime(doc: StatusDocument | { error: unknown }): unknown {
  return "at" in doc ? { ...doc, at: undefined } : doc;
}
