/**
 * SQLite-backed exposure ledger (SPEC section 6). One instance per shard (see `shardOf`);
 * every method is synchronous SQL inside one event, so concurrent flushes from many
 * isolates serialise on the object's input gate and none of their counts is lost.
 */
import { DurableObject } from "cloudflare:workers";
import { BATCH_MEMORY_MS, MAX_FLUSH_AFTER_MS, utcDay } from "../../exposure/model";
import type {
  LedgerCappedDay,
  LedgerFilter,
  LedgerGroup,
  LedgerRegionDay,
  LedgerRegionSummary,
  LedgerTopCustomer,
  LedgerTopNetwork,
  LedgerTuple,
  LedgerVerifiedCustomers,
  RecordResult,
  RowKey,
  ShardStats,
} from "../../exposure/wire";
import { type ControlEnv, readConfig } from "../../platform/config";
import { log } from "../../platform/log";
import {
  migrate,
  readCapped,
  readFingerprint,
  readPage,
  readRegionDays,
  readSummary,
  readTop,
  readTopNetworks,
  readVerifiedCustomers,
  SCHEMA_VERSION,
} from "./ledger-sql";
import { applyTuples, type CustomerCounts } from "./ledger-write";

const DAY_MS = 86_400_000;
/** Stale batch ids are pruned at most this often, from `record`, so the table stays small. */
const PRUNE_EVERY_MS = 60_000;
/** Isolates count as callers for at least this long after their last flush. */
const CALLER_WINDOW_MS = 60_000;
export class ExposureLedger extends DurableObject<ControlEnv> {
  private alarmScheduled = false;
  private prunedAt = 0;
  /**
   * Customers stored per "day region", read from the table once per object lifetime and
   * kept in step by `record` (the object is single-threaded, so it cannot drift).
   */
  private customers: CustomerCounts = new Map();
  /** Isolate id → last flush, oldest first (re-inserted on each call): who calls this shard. */
  private callers = new Map<string, number>();
  private flushAfterMs = 0;

  constructor(ctx: DurableObjectState, env: ControlEnv) {
    super(ctx, env);
    const from = ctx.storage.transactionSync(() => migrate(ctx.storage.sql, Date.now()));
    if (from > 0 && from < SCHEMA_VERSION)
      log("info", "exposure_schema_upgraded", { from, to: SCHEMA_VERSION, id: ctx.id.toString() });
  }

  /**
   * Adds a flushed batch. Idempotent per `batchId`: a flush retried after a lost reply is
   * not counted twice. Returns false when the batch had already been applied.
   */
  async record(batchId: string, tuples: LedgerTuple[], caller = ""): Promise<RecordResult> {
    const sql = this.ctx.storage.sql;
    const cap = readConfig(this.env).ledger.maxCustomers;
    let changed: CustomerCounts = new Map();
    const applied = this.ctx.storage.transactionSync(() => {
      if (sql.exec("SELECT 1 FROM batches WHERE id = ?", batchId).toArray().length > 0) return false;
      sql.exec("INSERT INTO batches (id, at) VALUES (?, ?)", batchId, Date.now());
      changed = applyTuples(sql, tuples, cap, this.customers);
      return true;
    });
    // Kept only once the transaction has committed.
    if (this.customers.size > 1000) this.customers.clear(); // old days: re-read if ever written again
    for (const [key, n] of changed) this.customers.set(key, n);
    const now = Date.now();
    if (now - this.prunedAt > PRUNE_EVERY_MS) {
      this.prunedAt = now;
      sql.exec("DELETE FROM batches WHERE at < ?", now - BATCH_MEMORY_MS);
    }
    if (!this.alarmScheduled) {
      if ((await this.ctx.storage.getAlarm()) === null)
        await this.ctx.storage.setAlarm(nextSweep(Date.now()));
      this.alarmScheduled = true;
    }
    return { applied, flushAfterMs: this.pace(caller, now) };
  }

  /**
   * The interval to ask of every isolate calling this shard: with C isolates seen within
   * the window and a budget of R calls/s, C / R seconds, so that together they make at most
   * R calls a second however many they are, up to `MAX_FLUSH_AFTER_MS` (past R × 60
   * callers the shard takes callers ÷ 60 calls a second; see its comment). In memory: an evicted object starts counting
   * again (the isolates keep the interval they were given until their next call).
   */
  private pace(caller: string, now: number): number {
    if (caller) {
      this.callers.delete(caller);
      this.callers.set(caller, now);
    }
    const window = Math.max(CALLER_WINDOW_MS, 2 * this.flushAfterMs);
    for (const [id, at] of this.callers) {
      if (at >= now - window) break;
      this.callers.delete(id);
    }
    const budget = readConfig(this.env).ledger.shardCallsPerSecond;
    this.flushAfterMs = Math.min(MAX_FLUSH_AFTER_MS, Math.ceil((this.callers.size * 1000) / budget));
    return this.flushAfterMs;
  }

  /**
   * Up to `limit` rows after `after` in the read order (fingerprint, identity, region, day):
   * one page of `GET /exposure`. The caller merges the shards' pages.
   */
  page(filter: LedgerFilter, after: RowKey | null, limit: number): LedgerGroup[] {
    return readPage(this.ctx.storage.sql, filter, after, limit);
  }

  /**
   * Every row of one fingerprint in the filter (an index range: the customer's own view),
   * and the capped (day, code) pairs of the filter.
   */
  forFingerprint(
    fingerprint: string,
    filter: LedgerFilter,
  ): { groups: LedgerGroup[]; capped: LedgerCappedDay[] } {
    const sql = this.ctx.storage.sql;
    return { groups: readFingerprint(sql, fingerprint, filter), capped: readCapped(sql, filter) };
  }

  /** The (day, code) pairs of the filter in which some customer went to `overflow`. */
  capped(filter: LedgerFilter): LedgerCappedDay[] {
    return readCapped(this.ctx.storage.sql, filter);
  }

  /** Per (region, day) requests and distinct customers: the dashboard's series and map. */
  regionDays(filter: LedgerFilter): LedgerRegionDay[] {
    return readRegionDays(this.ctx.storage.sql, filter);
  }

  /** The `n` busiest customers (most requests) of each region in the filter. */
  top(filter: LedgerFilter, n: number): LedgerTopCustomer[] {
    return readTop(this.ctx.storage.sql, filter, n);
  }

  /** The `n` busiest networks (most requests) of each region in the filter, `other` last. */
  topNetworks(filter: LedgerFilter, n: number): LedgerTopNetwork[] {
    return readTopNetworks(this.ctx.storage.sql, filter, n);
  }

  /** Per-region totals; a customer is a distinct (fingerprint, identity). */
  summary(filter: LedgerFilter): LedgerRegionSummary[] {
    return readSummary(this.ctx.storage.sql, filter);
  }

  /** Per region, the distinct key fingerprints of verified customers. */
  verifiedCustomers(filter: LedgerFilter): LedgerVerifiedCustomers[] {
    return readVerifiedCustomers(this.ctx.storage.sql, filter);
  }

  /** Size and load of this shard: rows stored, and flushes received in the last hour. */
  stats(): ShardStats {
    const sql = this.ctx.storage.sql;
    const rows = sql
      .exec<{ rows: number; firstDay: string | null; lastDay: string | null }>(
        "SELECT COUNT(*) AS rows, MIN(day) AS firstDay, MAX(day) AS lastDay FROM exposure",
      )
      .one();
    const flushes = sql
      .exec<{ n: number }>("SELECT COUNT(*) AS n FROM batches WHERE at >= ?", Date.now() - BATCH_MEMORY_MS)
      .one().n;
    return {
      ...rows,
      flushesLastHour: flushes,
      callers: this.callers.size,
      flushAfterMs: this.flushAfterMs,
      databaseBytes: this.ctx.storage.sql.databaseSize,
    };
  }

  /** Retention: drops days older than `EXPOSURE_RETENTION_DAYS` and stale batch ids, then re-arms. */
  override async alarm(): Promise<void> {
    const retention = readConfig(this.env).ledger.retentionDays;
    const now = Date.now();
    const cutoff = utcDay(now - retention * DAY_MS);
    const sql = this.ctx.storage.sql;
    const del = sql.exec("DELETE FROM exposure WHERE day < ?", cutoff);
    del.toArray();
    const deleted = del.rowsWritten;
    sql.exec("DELETE FROM exposure_networks WHERE day < ?", cutoff);
    // A key verified only on days no longer kept is no longer verified (SPEC: "any day it keeps").
    sql.exec("DELETE FROM verified WHERE day < ?", cutoff);
    sql.exec("DELETE FROM batches WHERE at < ?", now - BATCH_MEMORY_MS);
    if (deleted > 0) log("info", "exposure_retention", { cutoff, deletedRows: deleted });
    const remaining = sql.exec("SELECT 1 FROM batches LIMIT 1").toArray().length > 0;
    const rows = sql.exec("SELECT 1 FROM exposure LIMIT 1").toArray().length > 0;
    if (rows || remaining) await this.ctx.storage.setAlarm(nextSweep(now));
    else this.alarmScheduled = false;
  }
}

/** Next sweep: shortly after the coming UTC midnight, when a day falls out of the window. */
function nextSweep(now: number): number {
  return (Math.floor(now / DAY_MS) + 1) * DAY_MS + 5 * 60_000;
}
