/**
 * The active policy as this isolate sees it. KV key `policy` is read at most once per
 * `POLICY_CACHE_SECONDS` (one request reads; concurrent ones keep the current policy). A read that throws,
 * times out or returns an invalid document keeps the last known good policy; only an
 * isolate that never loaded one reports `null`, and the gate then applies `FAIL_MODE`.
 */
import { readConfig, type Vars } from "../platform/config";
import { log } from "../platform/log";
import type { CompiledPolicy } from "../policy/compile";
import { parsePolicy } from "../policy/parse";
import { POLICY_KEY } from "./keys";

/** A KV read slower than this counts as failed; the last known good policy is used. */
export const KV_TIMEOUT_MS = 2000;
/** After a failed read, try again this soon (bounded by the cache TTL). */
const RETRY_AFTER_FAILURE_MS = 1000;

interface State {
  policy: CompiledPolicy | null;
  raw: string | null;
  /** When `policy` was last confirmed from KV (epoch ms). */
  confirmedAt: number;
  /** When the next KV read is due. */
  nextReadAt: number;
  inflight: Promise<void> | null;
  /** When `inflight` started: a read whose request was cancelled may never settle. */
  inflightSince: number;
  /** Why the last read failed, or null: the kind is public, the detail is not (see PolicyProblemKind). */
  lastError: { kind: PolicyProblemKind; detail: string; at: number } | null;
  /** Bumped by `invalidatePolicy`, so a read that started before a write cannot re-arm the cache. */
  generation: number;
}

const state: State = {
  policy: null,
  raw: null,
  confirmedAt: 0,
  nextReadAt: 0,
  inflight: null,
  inflightSince: 0,
  lastError: null,
  generation: 0,
};

/**
 * What kind of problem the last policy read had. `/healthz` is public, so it reports only
 * this: the detail quotes the document (exemption CIDRs, notes, URLs) and stays in the
 * logs and behind the admin token (`GET /__region-gate/status`).
 */
export type PolicyProblemKind = "empty" | "kv_error" | "kv_timeout" | "invalid_json" | "invalid_policy";

interface Problem {
  kind: PolicyProblemKind;
  detail: string;
}

class KvTimeout extends Error {}

/** Counters for tests, `/healthz` and benchmarks. */
export const storeStats = { kvReads: 0 };

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new KvTimeout(`KV read timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => {
    if (timer !== undefined) clearTimeout(timer);
  });
}

const describe = (problems: { path: string; message: string }[]) =>
  problems
    .slice(0, 5)
    .map((e) => `${e.path}: ${e.message}`)
    .join("; ");

/** Parses (strictly: a duplicated key must not silently win), validates and compiles; or says why not. */
function compileDocument(raw: string): CompiledPolicy | Problem {
  const result = parsePolicy(raw);
  if (result.ok) return result.compiled;
  if (result.stage === "schema") {
    return {
      kind: "invalid_policy",
      detail: `KV key "${POLICY_KEY}" holds an invalid policy: ${describe(result.errors)}`,
    };
  }
  return {
    kind: result.stage === "syntax" ? "invalid_json" : "invalid_policy",
    detail: `KV key "${POLICY_KEY}" is not acceptable JSON: ${describe(result.errors)}`,
  };
}

async function refresh(kv: KVNamespace, cacheMs: number): Promise<void> {
  const started = Date.now();
  const generation = state.generation;
  storeStats.kvReads++;
  let problem: Problem | null = null;
  try {
    const raw = await withTimeout(kv.get(POLICY_KEY, "text"), KV_TIMEOUT_MS);
    if (raw === null) {
      problem = {
        kind: "empty",
        detail: `KV key "${POLICY_KEY}" is empty; push a policy with \`region-gate policy push\``,
      };
    } else if (raw !== state.raw) {
      const loaded = compileDocument(raw);
      if ("kind" in loaded) problem = loaded;
      else {
        state.policy = loaded;
        state.raw = raw;
      }
    }
  } catch (e) {
    problem = {
      kind: e instanceof KvTimeout ? "kv_timeout" : "kv_error",
      detail: `KV read failed: ${(e as Error).message}`,
    };
  }
  if (problem === null) {
    state.confirmedAt = started;
    state.nextReadAt = generation === state.generation ? started + cacheMs : 0;
    state.lastError = null;
  } else {
    state.nextReadAt = Date.now() + Math.min(cacheMs, RETRY_AFTER_FAILURE_MS);
    if (problem.detail !== state.lastError?.detail) {
      log("error", "policy_load_failed", {
        kind: problem.kind,
        problem: problem.detail,
        keeping: state.policy ? state.policy.version : null,
      });
    }
    state.lastError = { ...problem, at: Date.now() };
  }
}

/**
 * The compiled policy to decide with, or null when no valid policy was ever loaded in
 * this isolate: the one way both Workers' handlers get the current policy (KV binding
 * `POLICY`, reused for `POLICY_CACHE_SECONDS`).
 */
export async function getPolicy(env: { POLICY: KVNamespace } & Vars): Promise<CompiledPolicy | null> {
  const kv = env.POLICY;
  const cacheMs = readConfig(env).policyCacheMs;
  if (Date.now() >= state.nextReadAt) {
    // A request never awaits a KV read that another request started: workerd runs such a
    // continuation in the other request's context (fetch then fails with "Cannot perform
    // I/O on behalf of a different request") or cancels the waiter as hung when that
    // request ends (both seen in bench/soak.mjs). So one request reads and waits for its
    // own read; requests meanwhile keep the current policy, or read for themselves when
    // this isolate has none yet.
    // A read older than twice the KV timeout belongs to a request that was cancelled before
    // it settled; without this check that isolate would never read KV again.
    const abandoned = state.inflight !== null && Date.now() - state.inflightSince > 2 * KV_TIMEOUT_MS;
    if (state.inflight === null || abandoned) {
      const read: Promise<void> = refresh(kv, cacheMs).finally(() => {
        if (state.inflight === read) state.inflight = null;
      });
      state.inflight = read;
      state.inflightSince = Date.now();
      await read;
    } else if (state.policy === null) {
      await refresh(kv, cacheMs);
    }
  }
  return state.policy;
}

/**
 * What this isolate knows about its policy. `lastError` is the kind of the last read's
 * problem (public in `/healthz`); `lastErrorDetail` quotes the document and is for the
 * logs and the token-protected `/status` only.
 */
export function policyHealth(now = Date.now()) {
  const failed = state.lastError;
  return {
    policyVersion: state.policy?.version ?? null,
    policyAgeSeconds: state.policy ? Math.max(0, Math.round((now - state.confirmedAt) / 1000)) : null,
    lastError: failed?.kind ?? null,
    lastErrorDetail: failed?.detail ?? null,
    lastErrorAt: failed ? new Date(failed.at).toISOString() : null,
  };
}

/** Forgets the cached policy so the next request reads KV (after an admin write). */
export function invalidatePolicy(): void {
  state.generation++;
  state.nextReadAt = 0;
}
