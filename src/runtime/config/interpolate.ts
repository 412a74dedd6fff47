import { readFileSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";

/**
 * `${VAR}`, `${VAR:-default}` and `${file:path}` in config values. `$${` escapes a literal `${`.
 * File contents are trimmed of one trailing newline, the way Kubernetes secret files usually end.
 */
export interface InterpolationResult {
  value: string;
  /** True when a part came from a file: such values are secrets and never printed. */
  secret: boolean;
}

export class InterpolationProblem extends Error {}

const PATTERN = /\$\$\{|\$\{([^}]*)\}/g;

export function interpolate(
  input: string,
  env: NodeJS.ProcessEnv,
  baseDir: string,
): InterpolationResult {
  let secret = false;
  const value = input.replace(PATTERN, (match, expr: string | undefined) => {
    if (match === "$${") return "${";
    const body = (expr ?? "").trim();
    if (body.startsWith("file:")) {
      secret = true;
      const path = body.slice(5).trim();
      const full = isAbsolute(path) ? path : resolve(baseDir, path);
      try {
        return readFileSync(full, "utf8").replace(/\r?\n$/, "");
      } catch (err) {
        const why = (err as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (err as Error).message;
        throw new InterpolationProblem(`cannot read \${file:${path}} (${full}): ${why}; mount the secret there or fix the path`);
      }
    }
    const sep = body.indexOf(":-");
    const name = sep >= 0 ? body.slice(0, sep) : body;
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
      throw new InterpolationProblem(`"\${${body}}" is not a valid reference; write \${NAME}, \${NAME:-default} or \${file:path}`);
    }
    const found = env[name];
    if (found !== undefined && found !== "") return found;
    if (sep >= 0) return body.slice(sep + 2);
    throw new InterpolationProblem(`environment variable ${name} is not set; set it, or write \${${name}:-default}`);
  });
  return { value, secret };
}
