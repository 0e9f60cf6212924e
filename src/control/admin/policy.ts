/**
 * `/policy` routes (SPEC section 7): read, write, validate, history, rollback. Writes go
 * through `policy/service.ts` (the dashboard's rollback too), which applies the rules of
 * `policy/write.ts` (the CLI uses the same ones) and resets this isolate's cached policy.
 */
import type { Context } from "hono";
import { errorResponse } from "../../platform/errors";
import { parseInstant } from "../../policy/explain";
import { type ParsedPolicy, parsePolicy } from "../../policy/parse";
import { canonicalPolicy, etagOf, sha256Hex } from "../../store/etag";
import { activeAt, readHistory } from "../../store/history";
import { POLICY_KEY } from "../../store/keys";
import { kvStorage } from "../../store/kv-storage";
import { asActiveMeta } from "../../store/meta";
import { pushStored, rollbackStored, storedDocument } from "../../store/service";
import type { Precondition, WriteResult } from "../../store/write";
import type { AppEnv } from "../app";
import { newApp } from "../app";
import { invalidJson, POLICY_BODY_BYTES, readJsonBody, readTextBody } from "../body";
import { adminActor } from "./auth";

type AdminContext = Context<AppEnv>;

export const policyRoutes = newApp();

function precondition(c: AdminContext): Precondition {
  const ifMatch = c.req.header("if-match");
  if (ifMatch !== undefined) return { ifMatch };
  return c.req.header("if-none-match")?.trim() === "*" ? { ifNoneMatch: "*" } : null;
}

function invalid(errors: Array<{ path: string; message: string }>, message: string): Response {
  return errorResponse("policy_invalid", message, { errors });
}

function written(c: AdminContext, result: WriteResult): Response {
  if (!result.ok) {
    return errorResponse(result.code, result.message, result.errors ? { errors: result.errors } : {});
  }
  return c.json(result, 200, { etag: result.etag, "cache-control": "no-store" });
}

policyRoutes.get("/policy", async (c) => {
  const version = c.req.query("version");
  if (version !== undefined) return storedVersion(c, version);
  const { value, metadata } = await c.env.POLICY.getWithMetadata(POLICY_KEY, "text");
  if (value === null) {
    return errorResponse(
      "policy_absent",
      "no policy is stored yet; PUT one here or run `region-gate policy push FILE`",
    );
  }
  const etag = etagOf(await sha256Hex(value));
  const headers: Record<string, string> = { etag, "cache-control": "no-store" };
  const meta = asActiveMeta(metadata);
  if (meta) {
    headers["x-region-gate-policy"] = meta.version;
    headers["last-modified"] = new Date(meta.at).toUTCString();
  }
  if (c.req.header("if-none-match") === etag) return c.body(null, 304, headers);
  return c.body(value, 200, { ...headers, "content-type": "application/json" });
});

/** `GET /policy?version=V`: a stored version, byte for byte (what a rollback would restore). */
async function storedVersion(c: AdminContext, version: string): Promise<Response> {
  const value = await storedDocument(c.env.POLICY, version);
  if (value === null) {
    return errorResponse(
      "version_not_found",
      `no stored policy has version ${JSON.stringify(version)}; GET /__region-gate/policy/history lists them`,
      { param: "version" },
    );
  }
  return c.body(value, 200, {
    etag: etagOf(await sha256Hex(value)),
    "content-type": "application/json",
    "cache-control": "no-store",
  });
}

/** The body as a policy, through the same `parsePolicy` the gate's store reads KV with. */
async function policyBody(c: AdminContext): Promise<ParsedPolicy | { error: Response }> {
  const body = await readTextBody(c.req.raw, POLICY_BODY_BYTES);
  if ("error" in body) return body;
  const result = parsePolicy(body.text);
  return !result.ok && result.stage !== "schema" ? { error: invalidJson(result.errors) } : result;
}

policyRoutes.put("/policy", async (c) => {
  const result = await policyBody(c);
  if ("error" in result) return result.error;
  if (!result.ok) {
    return invalid(
      result.errors,
      `the policy is invalid (${result.errors.length} problems); the active policy is unchanged`,
    );
  }
  const outcome = await pushStored(c.env.POLICY, result.policy, adminActor(c), precondition(c));
  return written(c, outcome);
});

policyRoutes.post("/policy/validate", async (c) => {
  const result = await policyBody(c);
  if ("error" in result) return result.error;
  if (!result.ok) return invalid(result.errors, `the policy is invalid (${result.errors.length} problems)`);
  const sha256 = await sha256Hex(canonicalPolicy(result.policy));
  return c.json({ ok: true, version: result.policy.version, sha256 });
});

policyRoutes.get("/policy/history", async (c) => {
  const atParam = c.req.query("at");
  let at: number | null = null;
  if (atParam !== undefined) {
    at = parseInstant(atParam);
    if (at === null) {
      return errorResponse(
        "invalid_time",
        `at=${JSON.stringify(atParam)} is not a time; use RFC 3339 with an offset (2024-07-09T10:00:00Z) or a day (2024-07-09)`,
        { param: "at" },
      );
    }
  }
  const view = await readHistory(kvStorage(c.env.POLICY));
  const answer =
    at === null ? view : { ...view, at: new Date(at).toISOString(), activeAt: activeAt(view, new Date(at)) };
  return c.json(answer, 200, { "cache-control": "no-store" });
});

policyRoutes.post("/policy/rollback", async (c) => {
  const body = await readJsonBody(c.req.raw);
  if ("error" in body) return body.error;
  const version = (body.value as { version?: unknown } | null)?.version;
  if (typeof version !== "string" || version === "") {
    return errorResponse("invalid_rollback", 'send {"version": "<a version from GET /policy/history>"}', {
      param: "version",
    });
  }
  const outcome = await rollbackStored(c.env.POLICY, version, adminActor(c), precondition(c));
  return written(c, outcome);
});
