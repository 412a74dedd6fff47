import { describe, expect, it } from "vitest";
import { adminExposure } from "../../../src/runtime/http/admin-auth.js";

describe("validate's admin check", () => {
  const admin = { host: "0.0.0.0", port: 8083, enabled: true, auth: "token" as const };
  it("warns of an admin API beyond localhost without a token, with the fix", () => {
    expect(adminExposure(admin)).toMatchObject({ ok: false, severity: "warning", message: expect.stringContaining("listens on 0.0.0.0:8083 without a token"), fix: expect.stringContaining("set admin.token") });
    expect(adminExposure({ ...admin, auth: "none" })?.message).toContain("may pause, restart and rewind connectors");
  });
  it("says nothing on localhost, with a token, or when the API is off", () => {
    for (const host of ["127.0.0.1", "localhost", "::1"]) expect(adminExposure({ ...admin, host })).toBeUndefined();
    expect(adminExposure({ ...admin, token: "t" })).toBeUndefined();
    expect(adminExposure({ ...admin, enabled: false })).toBeUndefined();
  });
});
