/**
 * The one error envelope (src/platform/errors.ts): every code of the table renders the shape SPEC
 * sections 4 and 7 fix, with the status and `type` docs/operations.md documents.
 */
import { describe, expect, it } from "vitest";
import { ERRORS, type ErrorCode, errorBody, errorResponse } from "../../src/platform/errors";

/** The documented rule: 401 authentication_error, 403 request_forbidden, 5xx server_error, else invalid_request_error. */
const documentedType = (status: number) =>
  status === 401
    ? "authentication_error"
    : status === 403
      ? "request_forbidden"
      : status >= 500
        ? "server_error"
        : "invalid_request_error";

const codes = Object.keys(ERRORS) as ErrorCode[];

describe("error envelope", () => {
  it.each(codes)("%s renders the contract shape with its status and type", async (code) => {
    const { status, type, message } = ERRORS[code];
    expect(type).toBe(documentedType(status));
    expect(message.length).toBeGreaterThan(0);
    const res = errorResponse(code);
    expect(res.status).toBe(status);
    expect(res.headers.get("content-type")).toBe("application/json");
    expect(res.headers.get("cache-control")).toBe("no-store");
    const text = await res.text();
    expect(text).toBe(JSON.stringify({ error: { message, type, param: null, code } }));
    expect(Object.keys(JSON.parse(text).error)).toEqual(["message", "type", "param", "code"]);
  });

  it("renders the SPEC section 4 bodies byte for byte", () => {
    expect(errorBody("unsupported_country_region_territory")).toBe(
      '{"error":{"message":"Country, region, or territory not supported","type":"request_forbidden","param":null,"code":"unsupported_country_region_territory"}}',
    );
    expect(errorBody("region_policy_unavailable")).toBe(
      '{"error":{"message":"Region policy unavailable; try again later","type":"server_error","param":null,"code":"region_policy_unavailable"}}',
    );
    expect(errorBody("origin_unreachable")).toBe(
      '{"error":{"message":"Origin unreachable","type":"server_error","param":null,"code":"origin_unreachable"}}',
    );
  });

  it("carries a message, a param, every problem and extra headers when given", async () => {
    const errors = [{ path: "$.version", message: "required" }];
    const res = errorResponse("policy_invalid", "1 problem", {
      param: "version",
      errors,
      headers: { "retry-after": "5", "content-type": "text/plain" },
    });
    expect(res.status).toBe(422);
    expect(res.headers.get("retry-after")).toBe("5");
    expect(res.headers.get("content-type")).toBe("application/json");
    expect(await res.json()).toEqual({
      error: {
        message: "1 problem",
        type: "invalid_request_error",
        param: "version",
        code: "policy_invalid",
      },
      errors,
    });
  });
});
