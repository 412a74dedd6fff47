/**
 * The status page at `/`: plain files from web/status (HTML, one ES module, CSS), served as they
 * are: nothing to build for users and nothing fetched from the internet. The page reads
 * `/status/stream` and calls the connector API with the admin token, so its files hold no data and
 * are open like the probes (admin-auth.ts).
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { FastifyPluginAsync } from "fastify";
import type { Logger } from "../log.js";

/**
 * web/ sits at the package root, two folders above this file both as src/runtime/http/*.ts (tsx)
 * and as dist/runtime/http/*.js (built); package.json's `files` ships it.
 */
const PAGE_DIR = new URL("../../../web/status/", import.meta.url);

/** URL path → the file and its content type. */
const PAGE_FILES: Record<string, [file: string, type: string]> = {
  "/": ["index.html", "text/html; charset=utf-8"],
  "/status-page/page.js": ["page.js", "text/javascript; charset=utf-8"],
  "/status-page/page.css": ["page.css", "text/css; charset=utf-8"],
};

export const PAGE_PATHS: readonly string[] = Object.keys(PAGE_FILES);

/**
 * The page's files are read once at start. An install that lost them still runs its connectors and
 * its API (a missing page is no reason to stop moving data): the page's paths answer 404 with what
 * is missing, and the start logs a warning.
 */
export function statusPage(log: Logger, dir: URL = PAGE_DIR): FastifyPluginAsync {
  return async (app) => {
    for (const [path, [file, type]] of Object.entries(PAGE_FILES)) {
      const where = fileURLToPath(new URL(file, dir));
      let body: Buffer;
      try {
        body = readFileSync(where);
      } catch (err) {
        log.warn({ file: where, err: (err as Error).message }, "status page file missing: the page is not served (reinstall the package; the API and the connectors are not affected)");
        app.get(path, async (_req, reply) => reply.code(404).type("text/plain; charset=utf-8").send(`status page file missing from this install: ${file}\n`));
        continue;
      }
      app.get(path, async (_req, reply) => reply.type(type).header("cache-control", "no-cache").send(body));
    }
  };
}
