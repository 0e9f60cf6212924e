/**
 * The write rules shared by the admin API (Workers KV binding) and the CLI (wrangler):
 * push and rollback, with their preconditions, conflicts and history entries. One
 * implementation, so both agree on what a write does.
 */

import { policyTextProblems } from "../policy/parse";
import type { PolicyDocument } from "../policy/schema";
import { canonicalPolicy, documentSha, etagOf, ifMatchAccepts, sha256Hex } from "./etag";
import { historyKey, POLICY_KEY } from "./keys";
import {
  type Activation,
  type ActivationVia,
  asActiveMeta,
  asHistoryMeta,
  type HistoryMeta,
  versionOf,
  withActivation,
} from "./meta";
import type { PolicyStorage } from "./storage";

/** What the writer expects the active policy to be: `If-Match` / `If-None-Match: *`. */
export type Precondition = { ifMatch: string } | { ifNoneMatch: "*" } | null;

export interface Actor {
  /** `token`, an Access email or `cli:<user>`. */
  by: string;
  now: Date;
}

export type WriteResult =
  | { ok: true; changed: boolean; version: string; sha256: string; etag: string }
  | {
      ok: false;
      status: 404 | 409 | 412 | 422;
      code: "version_not_found" | "version_conflict" | "policy_changed" | "policy_invalid";
      message: string;
      errors?: Array<{ path: string; message: string }>;
    };

function preconditionFails(pre: Precondition, activeSha: string | null): WriteResult | null {
  if (pre === null) return null;
  if ("ifNoneMatch" in pre) {
    if (activeSha === null) return null;
    return {
      ok: false,
      status: 412,
      code: "policy_changed",
      message:
        "a policy is already active but the request expected none (If-None-Match: *); fetch the active policy and retry with its ETag",
    };
  }
  if (ifMatchAccepts(pre.ifMatch, activeSha)) return null;
  return {
    ok: false,
    status: 412,
    code: "policy_changed",
    message: `the active policy is ${activeSha === null ? "absent" : etagOf(activeSha)}, not ${pre.ifMatch}: someone changed it since you read it; fetch it again, review, and retry with the new ETag`,
  };
}

/**
 * The active document, when its version has no history entry (it was written to KV by
 * hand), is archived before being replaced, so a rollback to it stays possible.
 */
async function archiveActive(
  storage: PolicyStorage,
  active: { value: string; meta: unknown },
  activeSha: string,
): Promise<{ key: string; value: string; meta: HistoryMeta } | null> {
  const version = versionOf(active.value);
  if (version === null || (await storage.head(historyKey(version))) !== null) return null;
  const meta = asActiveMeta(active.meta);
  return {
    key: historyKey(version),
    value: active.value,
    meta: { sha256: activeSha, activations: meta && meta.sha256 === activeSha ? [meta] : [] },
  };
}

/**
 * "Same content" means the same JSON document: a version stored with other formatting
 * (written by hand, seeded by `npm start`) is not a conflict, and its stored bytes are
 * kept and reused rather than rewritten.
 */
async function activate(
  storage: PolicyStorage,
  proposed: string,
  version: string,
  via: ActivationVia,
  actor: Actor,
  pre: Precondition,
): Promise<WriteResult> {
  const docSha = await documentSha(proposed);
  const active = await storage.read(POLICY_KEY);
  const activeSha = active ? await sha256Hex(active.value) : null;
  const failed = preconditionFails(pre, activeSha);
  if (failed) return failed;

  let content = proposed;
  const stored = await storage.head(historyKey(version));
  const storedMeta = stored ? asHistoryMeta(stored.meta) : null;
  const conflict = {
    ok: false as const,
    status: 409 as const,
    code: "version_conflict" as const,
    message: `version ${JSON.stringify(version)} is already stored with a different document; give the changed document a new "version"`,
  };
  if (stored && storedMeta?.sha256 !== (await sha256Hex(proposed))) {
    const value = (await storage.read(historyKey(version)))?.value;
    if (value !== undefined) {
      if ((await documentSha(value)) !== docSha) return conflict;
      content = value;
    }
  }
  if (!stored && active && versionOf(active.value) === version) {
    if ((await documentSha(active.value)) !== docSha) return conflict;
    content = active.value;
  }
  const sha256 = await sha256Hex(content);
  const result = { ok: true as const, version, sha256, etag: etagOf(sha256) };
  if (active && (activeSha === sha256 || (await documentSha(active.value)) === docSha)) {
    return { ...result, sha256: activeSha!, etag: etagOf(activeSha!), changed: false };
  }

  const activation: Activation = { at: actor.now.toISOString(), by: actor.by, via };
  const entries: Parameters<PolicyStorage["write"]>[0] = [];
  if (active && activeSha !== null) {
    const archived = await archiveActive(storage, active, activeSha);
    if (archived) entries.push(archived);
  }
  entries.push({
    key: historyKey(version),
    value: content,
    meta: withActivation(sha256, storedMeta?.activations ?? [], activation),
  });
  entries.push({ key: POLICY_KEY, value: content, meta: { ...activation, version, sha256 } });
  await storage.write(entries);
  return { ...result, changed: true };
}

/**
 * Makes a validated document active and records it under `policy@<version>`.
 * 412 when `pre` does not match the active policy; 409 when the version is already
 * stored with other content; `changed: false` when it already is the active document.
 */
export function pushPolicy(
  storage: PolicyStorage,
  doc: PolicyDocument,
  actor: Actor,
  pre: Precondition = null,
): Promise<WriteResult> {
  return activate(storage, canonicalPolicy(doc), doc.version, "push", actor, pre);
}

/**
 * Makes a stored version active again, byte for byte. Its text is re-checked with
 * `parsePolicy`, the gate's own reader: the schema may have moved on since it was stored,
 * and an entry written by hand (a duplicated key, say) must not become an active policy the
 * gate would refuse to load, silently keeping the old one.
 */
export async function rollbackPolicy(
  storage: PolicyStorage,
  version: string,
  actor: Actor,
  pre: Precondition = null,
): Promise<WriteResult> {
  const stored = await storage.read(historyKey(version));
  if (stored === null) {
    return {
      ok: false,
      status: 404,
      code: "version_not_found",
      message: `no stored policy has version ${JSON.stringify(version)}; \`region-gate policy history\` (or GET /__region-gate/policy/history) lists the stored versions`,
    };
  }
  const errors = policyTextProblems(stored.value);
  if (errors.length > 0) {
    return {
      ok: false,
      status: 422,
      code: "policy_invalid",
      message: `stored version ${JSON.stringify(version)} does not validate against the current schema; push a corrected document with a new version instead`,
      errors,
    };
  }
  return activate(storage, stored.value, version, "rollback", actor, pre);
}
