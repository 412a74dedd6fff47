import type { FastifyPluginAsync } from "fastify";
import { ErrorCode, toLiberatorError } from "../errors.js";
import type { CatalogItem } from "../governance/stream-catalog.js";

type Params = { topic: string };

/**
 * The stream catalog on the admin port: `GET /streams` lists every stream Liberator writes (and
 * those the config declares that nothing wrote yet), `GET /streams/{topic}` shows one. Every worker
 * answers from the same compacted topic, so any worker's API shows the whole catalog.
 */
export function streamRoutes(catalog: { streams(): Promise<CatalogItem[]> }): FastifyPluginAsync {
  return async (app) => {
    const unavailable = (err: unknown) => {
      const e = toLiberatorError(err);
      return { error: `cannot read the stream catalog: ${e.describe()}`, code: e.code, fix: "check that Kafka is reachable and that this worker may read the catalog topic (liberator acls plan)" };
    };
    app.get("/streams", async (_req, reply) => {
      try {
        return await catalog.streams();
      } catch (err) {
        return reply.code(503).send(unavailable(err));
      }
    });
    app.get<{ Params: Params }>("/streams/:topic", async (req, reply) => {
      let items: CatalogItem[];
      try {
        items = await catalog.streams();
      } catch (err) {
        return reply.code(503).send(unavailable(err));
      }
      const item = items.find((s) => s.topic === req.params.topic);
      if (item) return item;
      return reply.code(404).send({
        error: `no stream "${req.params.topic}": no connector has written it and the config does not declare it`,
        code: ErrorCode.STREAM_NOT_FOUND,
        fix: `GET /streams lists them${items.length > 0 ? ` (${items.slice(0, 5).map((s) => s.topic).join(", ")}${items.length > 5 ? ", …" : ""})` : ""}`,
      });
    });
  };
}
