import { execFileSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { checkPatches } from "../../../src/runtime/patches.js";

const repo = fileURLToPath(new URL("../../../", import.meta.url));
const ZONGJI = "node_modules/@vlasky/zongji/lib/binlog_event.js";

describe("checkPatches", () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  /** A package root holding the real zongji patch and package, binlog_event.js as `content` has it. */
  function root(content: string): string {
    const dir = mkdtempSync(join(tmpdir(), "patches-"));
    dirs.push(dir);
    mkdirSync(join(dir, "patches"));
    cpSync(join(repo, "patches/@vlasky+zongji+0.9.0.patch"), join(dir, "patches/@vlasky+zongji+0.9.0.patch"));
    cpSync(join(repo, "node_modules/@vlasky/zongji"), join(dir, "node_modules/@vlasky/zongji"), { recursive: true });
    writeFileSync(join(dir, ZONGJI), content);
    return dir;
  }

  it("passes on the installed dependencies, every patch applied", () => {
    expect(() => checkPatches(repo)).not.toThrow();
  });

  it("names the unpatched file and the patch, and says to run patch-package", () => {
    const patched = readFileSync(join(repo, ZONGJI), "utf8");
    const unpatched = patched.replace(/this\.columnNullability = Array\.from[^\n]*\n[^\n]*\n/, "");
    expect(unpatched).not.toBe(patched);
    expect(() => checkPatches(root(unpatched))).toThrow(
      expect.objectContaining({ code: "PATCH_MISSING", message: expect.stringContaining(`${ZONGJI} is not patched by patches/@vlasky+zongji+0.9.0.patch`), fix: expect.stringContaining("npx patch-package") }),
    );
    expect(() => checkPatches(root(patched))).not.toThrow();
  });
});

describe("patched dependencies", () => {
  // a global install (`npm install -g` of the tarball) ignores package-lock.json, so a range would
  // let npm pick a newer release the patch no longer applies to, and the install would fail
  it("are pinned in package.json to the exact version each patch was made for", () => {
    const pkg = JSON.parse(readFileSync(join(repo, "package.json"), "utf8")) as { dependencies: Record<string, string> };
    const patches = readdirSync(join(repo, "patches")).filter((n) => n.endsWith(".patch"));
    expect(patches.length).toBeGreaterThan(0);
    for (const name of patches) {
      const [, dependency, version] = /^(.+)\+([^+]+)\.patch$/.exec(name)!;
      expect(pkg.dependencies[dependency!.replace("+", "/")], name).toBe(version);
    }
  });
});

describe("a worker's dependencies", () => {
  // Node 20 loads its fetch (undici) on first touch of Response and the like: 5-12 MB of every
  // worker's memory for a client no worker uses (pg probed Response to rule out Cloudflare)
  it("do not load Node's fetch when imported", () => {
    const modules = ["pg", "mysql2/promise", "@vlasky/zongji", "kafkajs", "avsc", "fastify", "pino", "prom-client", "ioredis", "bullmq", "yaml", "zod", "commander", "fastest-levenshtein", "log-update"];
    const script = `for (const m of ${JSON.stringify(modules)}) { await import(m); if (process.moduleLoadList.includes("NativeModule internal/deps/undici/undici")) { console.log(m); break; } }`;
    const loadedBy = execFileSync(process.execPath, ["--input-type=module", "-e", script], { cwd: repo, encoding: "utf8" }).trim();
    expect(loadedBy, `importing ${loadedBy} loaded undici`).toBe("");
  });
});
