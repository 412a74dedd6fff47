/**
 * The status page at `/`: plain files from web/status (HTML, one ES module, CSS), served as they
 * are: nothing to build for users and nothing fetched from the internet. The page reads
 * `/status/stream` and calls the connector API with the admin token, so its files hold no data and
 * are open like the probes (admin-auth.ts).
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { FastifyPluginAsync } from "fastify";

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

export function statusPage(): FastifyPluginAsync {
  return async (app) => {
    for (const [path, [file, type]] of Object.entries(PAGE_FILES)) {
      // read once at start: a package that lost its page fails at once, not when someone opens it
      const body = readFileSync(fileURLToPath(new URL(file, PAGE_DIR)));
      app.get(path, async (_req, reply) => reply.type(type).header("cache-control", "no-cache").send(body));
    }
  };
}
