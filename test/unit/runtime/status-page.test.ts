import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import Fastify from "fastify";
import { describe, expect, it } from "vitest";
import { PAGE_PATHS, statusPage } from "../../../src/runtime/http/status-page.js";
import { createLogger } from "../../../src/runtime/log.js";

/** The log lines the page's plugin wrote, parsed. */
function capture() {
  const lines: { level: string; msg: string }[] = [];
  const log = createLogger({ level: "info", destination: { write: (line: string) => void lines.push(JSON.parse(line) as { level: string; msg: string }) } });
  return { log, lines };
}

describe("the status page's files", () => {
  it("are served from the package", async () => {
    const { log, lines } = capture();
    const app = Fastify();
    await app.register(statusPage(log));
    for (const path of PAGE_PATHS) expect((await app.inject({ url: path })).statusCode).toBe(200);
    expect(lines.filter((l) => l.level !== "info")).toEqual([]);
    await app.close();
  });

  it("missing from an install: the daemon still starts, the page's paths answer 404 naming the file, and a warning says so", async () => {
    const { log, lines } = capture();
    const empty = pathToFileURL(join(mkdtempSync(join(tmpdir(), "no-page-")), "/")).href;
    const app = Fastify();
    await app.register(statusPage(log, new URL(empty)));
    const page = await app.inject({ url: "/" });
    expect(page.statusCode).toBe(404);
    expect(page.body).toContain("status page file missing from this install: index.html");
    const warnings = lines.filter((l) => l.level === "warn");
    expect(warnings).toHaveLength(PAGE_PATHS.length);
    expect(warnings[0]!.msg).toMatch(/status page file missing.*the API and the connectors are not affected/);
    await app.close();
  });
});
