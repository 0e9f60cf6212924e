/**
 * The request-path half of the exposure ledger: count in the isolate, flush in the
 * background. A request pays a Map increment (plus, for keyed requests, one HMAC inside
 * `waitUntil`); the Durable Object sees one call per shard per flush, not one per request.
 */
import type { Verdict } from "../decision";
import { bearerToken, fingerprint as hmacFingerprint } from "../fingerprint";
import { log } from "../log";
import type { CompiledPolicy } from "../policy/compile";
import {
  ANONYMOUS,
  BATCH_MEMORY_MS,
  DEFAULT_FLUSH_SECONDS,
  identityOf,
  isLedgerDecision,
  type LedgerDecision,
  type LedgerEnv,
  type LedgerTuple,
  numberVar,
  shardOf,
  shardStub,
  UNFINGERPRINTED,
  utcDay,
} from "./model";

/** Distinct keys held before a flush is forced early (memory bound of the live buffer). */
export const MAX_BUFFER_KEYS = 5000;
/** Keys of failed batches kept for a later attempt; past this, batches are dropped (counted). */
export const MAX_RETRY_KEYS = 20_000;
/** Attempts per batch (one per flush) before it is dropped. */
const MAX_ATTEMPTS = 5;
/** A batch older than this is dropped, not re-sent: the ledger may have forgotten its id. */
const MAX_BATCH_AGE_MS = BATCH_MEMORY_MS / 2;

type WaitUntil = Pick<ExecutionContext, "waitUntil">;

interface Batch {
  /** Idempotency key: the Durable Object ignores a batch id it already applied. */
  id: string;
  shard: number;
  tuples: LedgerTuple[];
  events: number;
  attempts: number;
  createdAt: number;
}

const SEP = "\u0000"; // cannot occur in header values or in the identity JSON

let buffer = new Map<string, number>();
let retry: Batch[] = [];
let retryKeys = 0;
/** When the pending delayed flush was scheduled (0: none). */
let scheduledAt = 0;
let warnedNoSalt = false;

const counters = {
  recordedEvents: 0,
  flushedEvents: 0,
  droppedEvents: 0,
  flushes: 0,
  ledgerCalls: 0,
  failedCalls: 0,
};

/** This isolate's ledger counters: what was recorded, flushed, dropped, and what is waiting. */
export function exposureStats() {
  let bufferedEvents = 0;
  for (const n of buffer.values()) bufferedEvents += n;
  return {
    ...counters,
    bufferedKeys: buffer.size,
    bufferedEvents,
    retryBatches: retry.length,
    retryEvents: retry.reduce((sum, b) => sum + b.events, 0),
  };
}

function flushDelayMs(env: LedgerEnv): number {
  return numberVar(env.EXPOSURE_FLUSH_SECONDS, DEFAULT_FLUSH_SECONDS).value * 1000;
}

/**
 * Counts one exposure event for a request from an unsupported region (SPEC section 6).
 * Synchronous and never throws: the only async part (the key's HMAC) and the flush run in
 * `ctx.waitUntil`. `fingerprint` is the one the gate already computed, or null.
 */
export function recordExposure(
  ctx: WaitUntil,
  env: LedgerEnv,
  policy: CompiledPolicy,
  verdict: Verdict,
  request: Request,
  fingerprint: string | null,
): void {
  try {
    if (env.EXPOSURE_LEDGER === "off" || !isLedgerDecision(verdict.decision)) return;
    const day = utcDay(Date.now());
    const region = verdict.region ?? verdict.country ?? "XX";
    const identity = identityOf(request.headers, policy.identityHeaders);
    const decision = verdict.decision;
    const count = (fp: string) =>
      add(ctx, env, `${day}${SEP}${region}${SEP}${fp}${SEP}${identity}${SEP}${decision}`);
    const token = fingerprint === null ? bearerToken(request.headers.get("authorization")) : null;
    if (fingerprint !== null) count(fingerprint);
    else if (token === null) count(ANONYMOUS);
    else if (!env.IDENTITY_SALT) count(unfingerprinted());
    else {
      // The HMAC is the only async step: it runs after the response, the raw key held only by this closure.
      ctx.waitUntil(
        hmacFingerprint(env.IDENTITY_SALT, token).then(count, (err: unknown) =>
          drop(1, "fingerprint_failed", err),
        ),
      );
    }
  } catch (err) {
    drop(1, "record_failed", err);
  }
}

function unfingerprinted(): string {
  if (!warnedNoSalt) {
    warnedNoSalt = true;
    log("warn", "exposure_unfingerprinted", {
      fix: "set the IDENTITY_SALT secret; until then keyed requests are counted as 'unfingerprinted'",
    });
  }
  return UNFINGERPRINTED;
}

function add(ctx: WaitUntil, env: LedgerEnv, key: string): void {
  counters.recordedEvents++;
  const n = buffer.get(key);
  if (n !== undefined) {
    buffer.set(key, n + 1);
    return;
  }
  if (buffer.size >= MAX_BUFFER_KEYS) ctx.waitUntil(flush(ctx, env));
  buffer.set(key, 1);
  schedule(ctx, env);
}

/** One delayed flush per isolate at a time: events wait at most `EXPOSURE_FLUSH_SECONDS`. */
function schedule(ctx: WaitUntil, env: LedgerEnv): void {
  const delay = flushDelayMs(env);
  const now = Date.now();
  // A flush scheduled long ago whose request context was torn down never ran: replace it.
  if (scheduledAt !== 0 && now - scheduledAt < delay + 30_000) return;
  scheduledAt = now;
  ctx.waitUntil(
    new Promise((resolve) => setTimeout(resolve, delay)).then(() => {
      scheduledAt = 0;
      return flush(ctx, env);
    }),
  );
}

/**
 * Sends everything buffered (and earlier failed batches) to the ledger shards now.
 * Resolves when every shard answered or failed; never rejects. Tests call it to flush
 * deterministically; the recorder calls it from `waitUntil`.
 */
export async function flushExposure(env: LedgerEnv, ctx?: WaitUntil): Promise<void> {
  await flush(ctx ?? { waitUntil: () => {} }, env);
}

async function flush(ctx: WaitUntil, env: LedgerEnv): Promise<void> {
  const taken = buffer;
  buffer = new Map();
  const batches = retry;
  retry = [];
  retryKeys = 0;
  const byShard = new Map<number, Batch>();
  for (const [key, n] of taken) {
    const [day, region, fp, identity, decision] = key.split(SEP) as [
      string,
      string,
      string,
      string,
      LedgerDecision,
    ];
    const shard = shardOf(region);
    let batch = byShard.get(shard);
    if (!batch) {
      batch = { id: crypto.randomUUID(), shard, tuples: [], events: 0, attempts: 0, createdAt: Date.now() };
      byShard.set(shard, batch);
      batches.push(batch);
    }
    batch.tuples.push([day, region, fp, identity, decision, n]);
    batch.events += n;
  }
  if (batches.length === 0) return;
  counters.flushes++;
  await Promise.all(batches.map((b) => send(env, b)));
  if (retry.length > 0) schedule(ctx, env);
}

async function send(env: LedgerEnv, batch: Batch): Promise<void> {
  batch.attempts++;
  counters.ledgerCalls++;
  try {
    await shardStub(env, batch.shard).record(batch.id, batch.tuples);
    counters.flushedEvents += batch.events;
  } catch (err) {
    counters.failedCalls++;
    if (batch.attempts >= MAX_ATTEMPTS) return drop(batch.events, "attempts_exhausted", err, batch.shard);
    if (Date.now() - batch.createdAt > MAX_BATCH_AGE_MS)
      return drop(batch.events, "batch_too_old", err, batch.shard);
    if (retryKeys + batch.tuples.length > MAX_RETRY_KEYS) {
      return drop(batch.events, "retry_queue_full", err, batch.shard);
    }
    retry.push(batch);
    retryKeys += batch.tuples.length;
    log("warn", "exposure_flush_failed", {
      shard: batch.shard,
      events: batch.events,
      attempt: batch.attempts,
      error: errorText(err),
      next: "retried with the next flush",
    });
  }
}

function drop(events: number, reason: string, err: unknown, shard?: number): void {
  counters.droppedEvents += events;
  log("error", "exposure_dropped", {
    reason,
    events,
    shard,
    totalDropped: counters.droppedEvents,
    error: errorText(err),
  });
}

const errorText = (err: unknown) => (err instanceof Error ? err.message : String(err));
