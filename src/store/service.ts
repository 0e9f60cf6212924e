/**
 * Policy writes as the worker makes them, for the admin API and the dashboard alike: under
 * this isolate's write lock (./lock.ts), then, when something changed, this isolate's cached
 * policy is reset (so its next request uses the new one) and the change is logged.
 */
import { log } from "../platform/log";
import type { PolicyDocument } from "../policy/schema";
import { historyKey } from "./keys";
import { kvStorage } from "./kv-storage";
import { serialised } from "./lock";
import { invalidatePolicy } from "./store";
import { type Precondition, pushPolicy, rollbackPolicy, type WriteResult } from "./write";

/** Where a write came from, when not the admin API: added to its log line. */
export type WriteOrigin = { via?: "dashboard" };

function settled(result: WriteResult, event: string, by: string, origin: WriteOrigin): WriteResult {
  if (result.ok && result.changed) {
    invalidatePolicy();
    log("info", event, { version: result.version, sha256: result.sha256, by, ...origin });
  }
  return result;
}

/** Makes a validated document active (`PUT /policy`), recorded as `by`. */
export async function pushStored(
  kv: KVNamespace,
  doc: PolicyDocument,
  by: string,
  pre: Precondition,
  origin: WriteOrigin = {},
): Promise<WriteResult> {
  const result = await serialised(() => pushPolicy(kvStorage(kv), doc, { by, now: new Date() }, pre));
  return settled(result, "policy_pushed", by, origin);
}

/**
 * Makes a stored version active again, re-validated and recorded as `by`:
 * `POST /policy/rollback` and the dashboard's rollback form.
 */
export async function rollbackStored(
  kv: KVNamespace,
  version: string,
  by: string,
  pre: Precondition,
  origin: WriteOrigin = {},
): Promise<WriteResult> {
  const result = await serialised(() => rollbackPolicy(kvStorage(kv), version, { by, now: new Date() }, pre));
  return settled(result, "policy_rolled_back", by, origin);
}

/** A stored version's text, byte for byte (what a rollback would restore); null when absent. */
export async function storedDocument(kv: KVNamespace, version: string): Promise<string | null> {
  return kv.get(historyKey(version), "text");
}
