/**
 * Liberator depends on fixes it applies to its dependencies (patches/, applied by patch-package on
 * install): zongji's table map carries each column's nullability, kafkajs drops aborted
 * transactions' records in the right order, mysql2 checks a TLS certificate against the IP address
 * it connected to (not "localhost"), pg does not load Node's fetch (undici: 5-12 MB of every worker)
 * to find out whether it runs on Cloudflare. An install that skipped them (`npm ci --ignore-scripts`
 * without `npx patch-package`) would run and quietly be wrong, so every patch is checked at start.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ErrorCode, PreconditionError } from "./errors.js";

/** The package's root: src/runtime/ and dist/runtime/ are both two levels down. */
const PACKAGE_ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** Per patched file, the lines the patch adds (blank lines left out: they prove nothing). */
function addedLines(patch: string): Map<string, string[]> {
  const files = new Map<string, string[]>();
  let current: string[] | undefined;
  for (const line of patch.split("\n")) {
    const header = /^\+\+\+ b\/(.+)$/.exec(line);
    if (header) files.set(header[1]!, (current = []));
    else if (current && line.startsWith("+") && line.slice(1).trim() !== "") current.push(line.slice(1).trim());
  }
  return files;
}

/** Throws PATCH_MISSING naming the first patch whose lines a patched file lacks. */
export function checkPatches(root: string = PACKAGE_ROOT): void {
  const dir = join(root, "patches");
  if (!existsSync(dir)) return;
  for (const name of readdirSync(dir).filter((n) => n.endsWith(".patch")).sort()) {
    for (const [file, lines] of addedLines(readFileSync(join(dir, name), "utf8"))) {
      const path = join(root, file);
      const text = existsSync(path) ? readFileSync(path, "utf8") : undefined;
      const missing = text === undefined ? undefined : lines.find((l) => !text.includes(l));
      if (text === undefined || missing !== undefined) {
        throw new PreconditionError(ErrorCode.PATCH_MISSING, `${file} is not patched by patches/${name}${text === undefined ? " (the file does not exist)" : ""}`, {
          fix: "run `npx patch-package` where the dependencies are installed (npm install runs it; an install with --ignore-scripts skips it), with the dependency versions package-lock.json names",
        });
      }
    }
  }
}
