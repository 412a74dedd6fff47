import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { describeConnectError } from "../../../src/runtime/db/connect-errors.js";
import { createLogger } from "../../../src/runtime/log.js";

describe("log lines of errors", () => {
  it("say a database's refusal once: the cause is its own object, not appended to the message that quotes it", async () => {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const log = createLogger({ level: "info", destination });
    const refusal = Object.assign(new Error("Access denied for user 'cdc'@'10.0.0.7' (using password: YES)"), { code: "ER_ACCESS_DENIED_ERROR" });
    const err = describeConnectError(refusal, "MySQL/MariaDB", { host: "db", port: 3306, user: "cdc", password: "pw", connectTimeoutMs: 1000 }, "shop");
    log.error({ err }, "connector failed");
    await new Promise((r) => setImmediate(r));
    const line = JSON.parse(lines.join("")) as { err: { message: string; cause: { message: string } } };
    expect(line.err.message).toBe(`MySQL/MariaDB at db:3306 refused user "cdc": Access denied for user 'cdc'@'10.0.0.7' (using password: YES)`);
    expect(line.err.message.match(/Access denied/g)).toHaveLength(1);
    expect(line.err.cause.message).toBe(refusal.message);
  });
});
