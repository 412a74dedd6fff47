import type { FastifyPluginAsync, FastifyReply } from "fastify";
import type { Json } from "../connector.js";
import type { ConnectorRunner } from "../connector-runner.js";
import { toLiberatorError } from "../errors.js";
import type { Worker } from "../worker.js";

type Params = { name: string };

/** The connector part of the admin API: list, status, pause, resume, restart. */
export function connectorRoutes(worker: Worker): FastifyPluginAsync {
  return async (app) => {
    const find = async (name: string, reply: FastifyReply): Promise<ConnectorRunner | undefined> => {
      const runner = worker.runner(name);
      if (!runner) await reply.code(404).send({ error: `no connector "${name}" runs in this worker` });
      return runner;
    };
    app.get("/connectors", async () => worker.statuses());
    app.get<{ Params: Params }>("/connectors/:name", async (req, reply) => (await find(req.params.name, reply))?.status());
    app.get<{ Params: Params }>("/connectors/:name/status", async (req, reply) => (await find(req.params.name, reply))?.status());
    app.post<{ Params: Params }>("/connectors/:name/pause", async (req, reply) => {
      const runner = await find(req.params.name, reply);
      runner?.pause();
      return runner?.status();
    });
    app.post<{ Params: Params }>("/connectors/:name/resume", async (req, reply) => {
      const runner = await find(req.params.name, reply);
      runner?.resume();
      return runner?.status();
    });
    app.post<{ Params: Params; Body: Record<string, Json> | undefined }>("/connectors/:name/snapshot", async (req, reply) => {
      const runner = await find(req.params.name, reply);
      if (!runner) return;
      try {
        return { accepted: true, result: await runner.command("snapshot", req.body ?? {}) };
      } catch (err) {
        const e = toLiberatorError(err, req.params.name);
        return reply.code(e.code === "COMMAND_UNAVAILABLE" ? 409 : 400).send({ error: e.describe(), code: e.code });
      }
    });
    app.post<{ Params: Params }>("/connectors/:name/restart", async (req, reply) => {
      const runner = await find(req.params.name, reply);
      await runner?.restart();
      return runner?.status();
    });
  };
}
