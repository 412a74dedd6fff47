import type { FastifyPluginAsync, FastifyReply } from "fastify";
import type { Json } from "../connector.js";
import { httpStatusOf, type ConnectorControl } from "../control.js";
import { toLiberatorError, type LiberatorError } from "../errors.js";
import { offsetChangeSchema, offsetsInvalid } from "../offsets/connector-offsets.js";

type Params = { name: string };

/**
 * The connector part of the admin API. In cluster mode `control` reaches the connector on whichever
 * worker runs it, so every worker's API answers for every connector.
 */
export function connectorRoutes(control: ConnectorControl): FastifyPluginAsync {
  return async (app) => {
    const answer = async (name: string, reply: FastifyReply, fn: () => Promise<unknown>) => {
      try {
        return await fn();
      } catch (err) {
        const e = toLiberatorError(err, name);
        return reply.code(httpStatusOf(e.code)).send(errorBody(e));
      }
    };
    app.get("/connectors", async (_req, reply) => answer("", reply, () => control.list()));
    for (const path of ["/connectors/:name", "/connectors/:name/status"]) {
      app.get<{ Params: Params }>(path, async (req, reply) => answer(req.params.name, reply, () => control.get(req.params.name)));
    }
    for (const action of ["pause", "resume", "restart"] as const) {
      app.post<{ Params: Params }>(`/connectors/:name/${action}`, async (req, reply) =>
        answer(req.params.name, reply, () => control[action](req.params.name)),
      );
    }
    app.post<{ Params: Params; Body: Record<string, Json> | undefined }>("/connectors/:name/snapshot", async (req, reply) =>
      answer(req.params.name, reply, async () => ({ accepted: true, result: await control.command(req.params.name, "snapshot", req.body ?? {}) })),
    );
    app.get<{ Params: Params }>("/connectors/:name/offsets", async (req, reply) => answer(req.params.name, reply, () => control.offsets(req.params.name)));
    app.put<{ Params: Params; Querystring: { force?: string }; Body: unknown }>("/connectors/:name/offsets", async (req, reply) => {
      const change = offsetChangeSchema.safeParse(req.body ?? {});
      if (!change.success) {
        const problems = change.error.issues.map((i) => `${i.path.join(".") || "body"}: ${i.message}`).join("; ");
        const e = offsetsInvalid(
          req.params.name,
          `not an offsets change (${problems})`,
          'send one of {"position": …}, {"reset": true}, {"to": "earliest"|"latest"}, {"toTime": "<ISO time>"}, {"offsets": [{"topic", "partition", "offset"}]}',
        );
        return reply.code(400).send(errorBody(e));
      }
      const force = req.query.force === "true" || req.query.force === "";
      return answer(req.params.name, reply, () => control.setOffsets(req.params.name, change.data, force));
    });
  };
}

/** `error` is the whole sentence for people; the other fields let a client rebuild the error. */
export function errorBody(e: LiberatorError) {
  return { error: e.describe(), code: e.code, message: e.message, ...(e.fix ? { fix: e.fix } : {}), ...(e.connector ? { connector: e.connector } : {}) };
}
