// ~380 lines, one job: count, batch, flush and retry share one isolate state (queues, counters).
/**
 * The request-path half of the exposure ledger: count in the isolate, flush in the
 * background. A request pays a Map increment (plus, for keyed requests, one HMAC inside
 * `waitUntil`); the Durable Object sees one call per shard per flush, not one per request,
 * and no more often than the shard asks (`flushAfterMs`, docs/ledger.md "Load on a shard").
 */

import {
  ANONYMOUS,
  BATCH_MEMORY_MS,
  type LedgerDecision,
  MAX_FLUSH_AFTER_MS,
  MAX_NETWORKS,
  OTHER_NETWORK,
  shardOf,
  shardStub,
  UNFINGERPRINTED,
  utcDay,
} from "../exposure/model";
import type { LedgerNetworkTuple, LedgerTuple } from "../exposure/wire";
import type { GateConfig, GateEnv } from "../platform/config";
import { fingerprint as hmacFingerprint, saltMissing } from "../platform/fingerprint";
import { log } from "../platform/log";

/**
 * One exposure event, as the gate hands it over: plain values, worked out by the gate
 * from the request, its decision and the origin's answer (src/gate/exposure-event.ts).
 */
export interface ExposureEvent {
  /** When the request came (epoch ms): its UTC day is the row's day. */
  at: number;
  /** The code that matched: a region code or `AS<number>`. */
  code: string;
  decision: LedgerDecision;
  /** The key's fingerprint when the gate already has it (a key exemption was checked). */
  fingerprint: string | null;
  /** The bearer key whose fingerprint is still to be made (in `waitUntil`), or null: no key. */
  key: string | null;
  /** The origin accepted the request (status below 500, not 401 or 403): SPEC section 6. */
  verified: boolean;
  /** Canonical identity JSON (`identityOf`); `{}` unless verified. */
  identity: string;
  /** The network the request came through, when the edge named one. */
  network: { asn: number; name: string; class: string } | null;
}

/** The ledger settings the recorder works with (the gate's parsed `config.ledger`). */
export type LedgerSettings = Pick<GateConfig["ledger"], "enabled" | "flushMs">;

/** Distinct keys held before a flush is forced early (memory bound of the live buffer). */
export const MAX_BUFFER_KEYS = 5000;
/** Keys of failed batches kept for a later attempt; past this, batches are dropped (counted). */
export const MAX_RETRY_KEYS = 20_000;
/** Attempts per batch (one per flush) before it is dropped. */
const MAX_ATTEMPTS = 5;
/** A batch older than this is dropped, not re-sent: the ledger may have forgotten its id. */
const MAX_BATCH_AGE_MS = BATCH_MEMORY_MS / 2;
/** Longest back-off after failed calls to a shard (doubling from the flush interval). */
const MAX_BACKOFF_MS = 5 * 60_000;
/** A delayed flush this late never ran (its request context ended): the next event re-arms it. */
const DEAD_TIMER_MS = 30_000;

type WaitUntil = Pick<ExecutionContext, "waitUntil">;

/** A buffered key's events: their count and their networks (the first five, then `other`). */
interface Entry {
  n: number;
  nets: Map<number, LedgerNetworkTuple> | null;
}

interface Batch {
  /** Idempotency key: the Durable Object ignores a batch id it already applied. */
  id: string;
  shard: number;
  tuples: LedgerTuple[];
  events: number;
  attempts: number;
  createdAt: number;
}

/** What the isolate holds for one shard. */
interface ShardQueue {
  buffer: Map<string, Entry>;
  retry: Batch[];
  /** No call to this shard before this instant: its load hint, or a back-off after failures. */
  notBefore: number;
  failures: number;
}

const SEP = "\u0000"; // cannot occur in header values or in the identity JSON

const queues = new Map<number, ShardQueue>();
let bufferKeys = 0;
let retryKeys = 0;
/** When the pending delayed flush should fire (0: none). */
let scheduledFor = 0;
/** The flush interval of the latest event's settings (`EXPOSURE_FLUSH_SECONDS`). */
let flushMs = 5000;
/** This isolate's id, sent with each flush so a shard can count the isolates calling it. */
let isolateId = "";

const counters = {
  recordedEvents: 0,
  flushedEvents: 0,
  droppedEvents: 0,
  flushes: 0,
  ledgerCalls: 0,
  failedCalls: 0,
  /** Failed calls whose error the runtime marked `overloaded` (the object is over its limit). */
  overloadedCalls: 0,
  /** Flushes forced by a full buffer, which do not wait for a shard's hint. */
  forcedFlushes: 0,
};

/** This isolate's ledger counters: what was recorded, flushed, dropped, and what is waiting. */
export function exposureStats() {
  let bufferedEvents = 0;
  let retryBatches = 0;
  let retryEvents = 0;
  for (const q of queues.values()) {
    for (const e of q.buffer.values()) bufferedEvents += e.n;
    retryBatches += q.retry.length;
    for (const b of q.retry) retryEvents += b.events;
  }
  return { ...counters, bufferedKeys: bufferKeys, bufferedEvents, retryBatches, retryEvents };
}

function queueOf(shard: number): ShardQueue {
  let q = queues.get(shard);
  if (!q) {
    q = { buffer: new Map(), retry: [], notBefore: 0, failures: 0 };
    queues.set(shard, q);
  }
  return q;
}

/**
 * Counts one exposure event (SPEC section 6). Synchronous and never throws: the only async
 * part (the key's HMAC, when the gate did not already make it) and the flush run in
 * `ctx.waitUntil`. `env` is only where the ledger's binding and `IDENTITY_SALT` are.
 */
export function recordExposure(
  ctx: WaitUntil,
  env: GateEnv,
  settings: LedgerSettings,
  event: ExposureEvent,
): void {
  try {
    if (!settings.enabled) return;
    flushMs = settings.flushMs;
    const day = utcDay(event.at);
    const { code, identity, decision, network } = event;
    const shard = shardOf(code);
    const v = event.verified ? 1 : 0;
    const count = (fp: string) =>
      add(
        ctx,
        env,
        shard,
        `${day}${SEP}${code}${SEP}${fp}${SEP}${identity}${SEP}${decision}${SEP}${v}`,
        network,
      );
    if (event.fingerprint !== null) count(event.fingerprint);
    else if (event.key === null) count(ANONYMOUS);
    else if (!env.IDENTITY_SALT) count(unfingerprinted());
    else {
      // The HMAC is the only async step: it runs after the response, the raw key held only by this closure.
      ctx.waitUntil(
        hmacFingerprint(env.IDENTITY_SALT, event.key).then(count, (err: unknown) =>
          drop(1, "fingerprint_failed", err),
        ),
      );
    }
  } catch (err) {
    drop(1, "record_failed", err);
  }
}

function unfingerprinted(): string {
  saltMissing();
  return UNFINGERPRINTED;
}

function add(
  ctx: WaitUntil,
  env: GateEnv,
  shard: number,
  key: string,
  network: ExposureEvent["network"],
): void {
  counters.recordedEvents++;
  const now = Date.now();
  const q = queueOf(shard);
  const entry = q.buffer.get(key);
  if (entry !== undefined) {
    entry.n++;
    if (network) entry.nets = addNetwork(entry.nets, network);
    if (scheduledFor !== 0 && now > scheduledFor + DEAD_TIMER_MS) schedule(ctx, env, now);
    return;
  }
  if (bufferKeys >= MAX_BUFFER_KEYS) {
    counters.forcedFlushes++;
    ctx.waitUntil(flush(ctx, env, true));
  }
  q.buffer.set(key, { n: 1, nets: network ? addNetwork(null, network) : null });
  bufferKeys++;
  schedule(ctx, env, Math.max(now + flushMs, q.notBefore));
}

/** One more event through `network`: the first five networks by number, the rest under `other`. */
function addNetwork(
  nets: Map<number, LedgerNetworkTuple> | null,
  network: NonNullable<ExposureEvent["network"]>,
): Map<number, LedgerNetworkTuple> {
  const map = nets ?? new Map<number, LedgerNetworkTuple>();
  const kept = map.get(network.asn);
  if (kept) kept[1]++;
  else if (map.size - (map.has(OTHER_NETWORK) ? 1 : 0) < MAX_NETWORKS)
    map.set(network.asn, [network.asn, 1, network.name, network.class]);
  else {
    const other = map.get(OTHER_NETWORK);
    if (other) other[1]++;
    else map.set(OTHER_NETWORK, [OTHER_NETWORK, 1, "", ""]);
  }
  return map;
}

/**
 * One delayed flush per isolate at a time, at the earliest instant something is due:
 * events wait `EXPOSURE_FLUSH_SECONDS`, or longer while their shard asked for fewer calls.
 */
function schedule(ctx: WaitUntil, env: GateEnv, at: number): void {
  const now = Date.now();
  // A timer that is due no later is alive unless long overdue (its request context was torn down).
  if (scheduledFor !== 0 && scheduledFor <= at && now < scheduledFor + DEAD_TIMER_MS) return;
  scheduledFor = at;
  ctx.waitUntil(
    new Promise((resolve) => setTimeout(resolve, Math.max(0, at - now))).then(async () => {
      if (scheduledFor === at) scheduledFor = 0;
      await flush(ctx, env, false);
    }),
  );
}

/**
 * Sends everything buffered (and earlier failed batches) to the ledger shards now, without
 * waiting for their hints or back-off. Resolves when every shard answered or failed; never
 * rejects. Tests call it to flush deterministically.
 */
export async function flushExposure(env: GateEnv, ctx?: WaitUntil): Promise<void> {
  await flush(ctx ?? { waitUntil: () => {} }, env, true);
}

async function flush(ctx: WaitUntil, env: GateEnv, force: boolean): Promise<void> {
  const now = Date.now();
  const sends: Promise<void>[] = [];
  let nextDue = Number.POSITIVE_INFINITY;
  for (const [shard, q] of queues) {
    if (q.buffer.size === 0 && q.retry.length === 0) continue;
    if (!force && now < q.notBefore) {
      nextDue = Math.min(nextDue, q.notBefore);
      continue;
    }
    const batches = q.retry;
    q.retry = [];
    for (const b of batches) retryKeys -= b.tuples.length;
    if (q.buffer.size > 0) batches.push(batchOf(shard, q.buffer, now));
    bufferKeys -= q.buffer.size;
    q.buffer = new Map();
    sends.push(sendAll(env, q, batches));
  }
  if (sends.length > 0) {
    counters.flushes++;
    await Promise.all(sends);
  }
  // What is left waits for its shard: one timer for the earliest.
  for (const q of queues.values()) {
    if (q.buffer.size > 0 || q.retry.length > 0) nextDue = Math.min(nextDue, Math.max(q.notBefore, now));
  }
  if (nextDue !== Number.POSITIVE_INFINITY) schedule(ctx, env, Math.max(nextDue, now + 1));
}

function batchOf(shard: number, buffer: Map<string, Entry>, now: number): Batch {
  const batch: Batch = { id: crypto.randomUUID(), shard, tuples: [], events: 0, attempts: 0, createdAt: now };
  for (const [key, { n, nets }] of buffer) {
    const [day, region, fp, identity, decision, v] = key.split(SEP) as [
      string,
      string,
      string,
      string,
      LedgerDecision,
      string,
    ];
    batch.tuples.push([
      day,
      region,
      fp,
      identity,
      decision,
      n,
      v === "1" ? 1 : 0,
      nets ? [...nets.values()] : [],
    ]);
    batch.events += n;
  }
  return batch;
}

/** The batches of one shard, one call each; the shard's answer sets when it may be called again. */
async function sendAll(env: GateEnv, q: ShardQueue, batches: Batch[]): Promise<void> {
  if (!isolateId) isolateId = crypto.randomUUID();
  const interval = flushMs;
  for (const [i, batch] of batches.entries()) {
    batch.attempts++;
    counters.ledgerCalls++;
    try {
      const answer = await shardStub(env, batch.shard).record(batch.id, batch.tuples, isolateId);
      counters.flushedEvents += batch.events;
      q.failures = 0;
      // Bounded here too, whatever a shard (of another release, say) asks: the wait is what
      // an evicted isolate can lose.
      q.notBefore = Date.now() + Math.max(interval, Math.min(MAX_FLUSH_AFTER_MS, answer.flushAfterMs));
    } catch (err) {
      counters.failedCalls++;
      const overloaded = (err as { overloaded?: unknown } | null)?.overloaded === true;
      if (overloaded) counters.overloadedCalls++;
      // No immediate retry (the platform's advice for `overloaded`, and kind to a failing
      // object): the shard's next call waits, doubling per consecutive failure, with jitter.
      q.failures++;
      const backoff = Math.min(MAX_BACKOFF_MS, interval * 2 ** q.failures);
      q.notBefore = Date.now() + backoff * (0.5 + Math.random() / 2);
      keepForRetry(q, batch, err, overloaded);
      // The shard's other batches wait with it, unsent (no attempt spent).
      for (const rest of batches.slice(i + 1)) keepForRetry(q, rest, err, overloaded);
      return;
    }
  }
}

function keepForRetry(q: ShardQueue, batch: Batch, err: unknown, overloaded: boolean): void {
  const reason =
    batch.attempts >= MAX_ATTEMPTS
      ? "attempts_exhausted"
      : Date.now() - batch.createdAt > MAX_BATCH_AGE_MS
        ? "batch_too_old"
        : retryKeys + batch.tuples.length > MAX_RETRY_KEYS
          ? "retry_queue_full"
          : null;
  if (reason !== null) {
    drop(batch.events, reason, err, batch.shard);
    return;
  }
  q.retry.push(batch);
  retryKeys += batch.tuples.length;
  log("warn", "exposure_flush_failed", {
    shard: batch.shard,
    events: batch.events,
    attempt: batch.attempts,
    overloaded,
    error: errorText(err),
    next: `retried after ${Math.round((q.notBefore - Date.now()) / 1000)} s`,
  });
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
