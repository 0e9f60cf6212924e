/**
 * Policy storage layout and the write rules shared by the admin API (Workers KV binding)
 * and the CLI (wrangler). One implementation, so both agree on keys, metadata, ETags,
 * conflicts and history.
 *
 * KV namespace `POLICY`:
 * - `policy`: the active document. Metadata `ActiveMeta`.
 * - `policy@<version>`: every document that was ever active, byte for byte. Metadata
 *   `HistoryMeta` (its sha256 and the last activations: when, by whom, how).
 *
 * Documents are stored as canonical JSON (`canonicalPolicy`): two-space indent and a final
 * newline, keys in the order the author wrote them. So the same document pushed from a
 * file, from the admin API or from a rollback is the same bytes with the same ETag.
 */
import { policyTextProblems } from "./parse";
import type { PolicyDocument } from "./schema";

/** KV key of the active policy. */
export const POLICY_KEY = "policy";
/** Prefix of the history keys: `policy@<version>`. */
export const HISTORY_PREFIX = "policy@";
/** KV refuses metadata over 1024 bytes; history metadata is trimmed to stay under this. */
const METADATA_BUDGET = 1000;

/** `policy@<version>` */
export const historyKey = (version: string): string => `${HISTORY_PREFIX}${version}`;

export type ActivationVia = "push" | "rollback";

/** One moment a document became active. `by` is `admin:<token fingerprint>` or `cli:<user>`. */
export interface Activation {
  at: string;
  by: string;
  via: ActivationVia;
}

/** Metadata of `policy`. */
export interface ActiveMeta extends Activation {
  version: string;
  sha256: string;
}

/** Metadata of `policy@<version>`; `activations` is oldest first and keeps the most recent ones. */
export interface HistoryMeta {
  sha256: string;
  activations: Activation[];
}

/** One row of `GET /policy/history`, newest activation first. */
export interface HistoryEntry {
  version: string;
  sha256: string;
  active: boolean;
  /** The last time this version became active (null: archived without a record). */
  activatedAt: string | null;
  activations: Activation[];
}

export interface HistoryView {
  active: { version: string; sha256: string } | null;
  versions: HistoryEntry[];
}

/** A narrow view of KV: the worker binding and the CLI's wrangler calls both implement it. */
export interface PolicyStorage {
  /** Value and metadata of `key`, or null when the key does not exist. */
  read(key: string): Promise<{ value: string; meta: unknown } | null>;
  /** Metadata only (may be cheaper than `read`); null when the key does not exist. */
  head(key: string): Promise<{ meta: unknown } | null>;
  /** Every key under `prefix` with its metadata. */
  list(prefix: string): Promise<Array<{ name: string; meta: unknown }>>;
  /** Writes the entries in order (history before the active key). */
  write(entries: Array<{ key: string; value: string; meta: ActiveMeta | HistoryMeta }>): Promise<void>;
}

/** What the writer expects the active policy to be: `If-Match` / `If-None-Match: *`. */
export type Precondition = { ifMatch: string } | { ifNoneMatch: "*" } | null;

export interface Actor {
  /** `admin:<fingerprint>` or `cli:<user>`. */
  by: string;
  now: Date;
}

export type WriteResult =
  | { ok: true; changed: boolean; version: string; sha256: string; etag: string }
  | {
      ok: false;
      status: 404 | 409 | 412 | 422;
      code: string;
      message: string;
      errors?: Array<{ path: string; message: string }>;
    };

/** The bytes stored for a document. */
export function canonicalPolicy(doc: unknown): string {
  return `${JSON.stringify(doc, null, 2)}\n`;
}

/** Lower-case hex SHA-256 of the UTF-8 bytes of `text` (WebCrypto: worker and Node alike). */
export async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** The strong ETag of a stored document. */
export const etagOf = (sha256: string): string => `"${sha256}"`;

/** True when an `If-Match` header value names `sha256` (or is `*` and a policy exists). */
export function ifMatchAccepts(header: string, sha256: string | null): boolean {
  if (sha256 === null) return false;
  return header.split(",").some((tag) => {
    const t = tag.trim();
    return t === "*" || t === etagOf(sha256);
  });
}

const isRecord = (x: unknown): x is Record<string, unknown> =>
  typeof x === "object" && x !== null && !Array.isArray(x);

function asActivation(x: unknown): Activation | null {
  if (!isRecord(x) || typeof x.at !== "string" || typeof x.by !== "string") return null;
  return { at: x.at, by: x.by, via: x.via === "rollback" ? "rollback" : "push" };
}

/** Reads history metadata defensively: keys written by hand may carry none. */
export function asHistoryMeta(meta: unknown): HistoryMeta | null {
  if (!isRecord(meta) || typeof meta.sha256 !== "string") return null;
  const activations = Array.isArray(meta.activations)
    ? meta.activations.map(asActivation).filter((a): a is Activation => a !== null)
    : [];
  return { sha256: meta.sha256, activations };
}

/** Reads the active key's metadata defensively. */
export function asActiveMeta(meta: unknown): ActiveMeta | null {
  const activation = asActivation(meta);
  if (!activation || !isRecord(meta) || typeof meta.version !== "string" || typeof meta.sha256 !== "string")
    return null;
  return { ...activation, version: meta.version, sha256: meta.sha256 };
}

/** Appends an activation, dropping the oldest ones past KV's metadata limit. */
function withActivation(sha256: string, previous: Activation[], next: Activation): HistoryMeta {
  const meta: HistoryMeta = { sha256, activations: [...previous, next] };
  while (meta.activations.length > 1 && JSON.stringify(meta).length > METADATA_BUDGET) {
    meta.activations.shift();
  }
  return meta;
}

function versionOf(text: string): string | null {
  try {
    const doc: unknown = JSON.parse(text);
    return isRecord(doc) && typeof doc.version === "string" && doc.version !== "" ? doc.version : null;
  } catch {
    return null;
  }
}

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

/** Hash of the document a text holds, whatever its formatting (of the bytes when not JSON). */
export async function documentSha(text: string): Promise<string> {
  try {
    return await sha256Hex(canonicalPolicy(JSON.parse(text)));
  } catch {
    return sha256Hex(text);
  }
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
    code: "version_conflict",
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

/** sha256 from metadata, or of the value itself for keys written by hand without metadata. */
async function shaOf(storage: PolicyStorage, key: string, meta: { sha256: string } | null): Promise<string> {
  if (meta) return meta.sha256;
  const value = (await storage.read(key))?.value;
  return value === undefined ? "" : sha256Hex(value);
}

/** Stored versions, the most recently activated first; versions never activated go last. */
export async function readHistory(storage: PolicyStorage): Promise<HistoryView> {
  const [keys, activeHead] = await Promise.all([storage.list(HISTORY_PREFIX), storage.head(POLICY_KEY)]);
  const activeMeta = activeHead ? asActiveMeta(activeHead.meta) : null;
  const activeSha = activeHead ? await shaOf(storage, POLICY_KEY, activeMeta) : null;
  const activeVersion =
    activeMeta?.version ?? (activeHead ? versionOf((await storage.read(POLICY_KEY))?.value ?? "") : null);
  const versions: HistoryEntry[] = await Promise.all(
    keys.map(async ({ name, meta }) => {
      const m = asHistoryMeta(meta);
      const sha256 = await shaOf(storage, name, m);
      const activations = m?.activations ?? [];
      return {
        version: name.slice(HISTORY_PREFIX.length),
        sha256,
        active: activeSha !== null && activeSha === sha256,
        activatedAt: activations.at(-1)?.at ?? null,
        activations,
      };
    }),
  );
  versions.sort((a, b) => {
    if (a.activatedAt === b.activatedAt) return a.version < b.version ? -1 : 1;
    if (a.activatedAt === null) return 1;
    if (b.activatedAt === null) return -1;
    return a.activatedAt < b.activatedAt ? 1 : -1;
  });
  return {
    active:
      activeSha !== null && activeVersion !== null ? { version: activeVersion, sha256: activeSha } : null,
    versions,
  };
}

/**
 * The version that was active at `at` according to the recorded activations, or null
 * when none was recorded before it. Answers "what was active on 2024-07-09 at 10:00 UTC".
 */
export function activeAt(view: HistoryView, at: Date): string | null {
  let best: { at: number; version: string } | null = null;
  for (const entry of view.versions) {
    for (const a of entry.activations) {
      const t = Date.parse(a.at);
      if (t <= at.getTime() && (best === null || t > best.at)) best = { at: t, version: entry.version };
    }
  }
  return best?.version ?? null;
}
