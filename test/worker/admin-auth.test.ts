import { describe, expect, it } from "vitest";
import { runAdminAuthCases } from "./admin-auth-cases";
import { adminFetch, json } from "./call";

describe("admin auth", () => {
  runAdminAuthCases();

  it("keeps /healthz public, with or without ADMIN_TOKEN", async () => {
    for (const env of [undefined, { ADMIN_TOKEN: undefined }]) {
      const res = await adminFetch("/healthz", { token: null, ...(env ? { env } : {}) });
      expect([200, 503]).toContain(res.status);
      expect(Object.keys(await json(res))).toEqual(
        expect.arrayContaining(["ok", "policyVersion", "policyAgeSeconds"]),
      );
    }
  });

  it("answers unknown admin paths with the JSON envelope, never the gate", async () => {
    const res = await adminFetch("/nope");
    expect(res.status).toBe(404);
    expect(await json(res)).toMatchObject({ error: { code: "not_found", type: "invalid_request_error" } });
  });
});
