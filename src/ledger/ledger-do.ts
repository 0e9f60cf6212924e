/**
 * SQLite-backed exposure ledger (SPEC section 6). One instance per shard (see `shardOf`);
 * every method is synchronous SQL inside one event, so concurrent flushes from many
 * isolates serialise on the object's input gate and none of their counts is lost.
 */
import { DurableObject } from "cloudflare:workers";
import { log } from "../log";
import {
  BATCH_MEMORY_MS,
  DEFAULT_RETENTION_DAYS,
  LEDGER_DECISIONS,
  type LedgerDecision,
  type LedgerEnv,
  type LedgerTuple,
  numberVar,
  utcDay,
} from "./model";

const DAY_MS = 86_400_000;
/** Stale batch ids are pruned at most this often, from `record`, so the table stays small. */
const PRUNE_EVERY_MS = 60_000;

/** Filters of a read; days are inclusive `YYYY-MM-DD`. */
export interface LedgerFilter {
  from: string;
  to: string;
  region?: string;
  decisions?: readonly LedgerDecision[];
}

/** One row per (day, region, fingerprint, identity), counts per decision. */
export interface LedgerGroup {
  day: string;
  region: string;
  fingerprint: string;
  /** Canonical identity JSON (see `identityOf`). */
  identity: string;
  decisions: Record<LedgerDecision, number>;
}

/** Per-region totals of one shard. */
export interface LedgerRegionSummary {
  region: string;
  customers: number;
  requests: number;
  blocked: number;
  firstDay: string;
  lastDay: string;
}

/** What `stats()` reports for one shard. */
export interface ShardStats {
  rows: number;
  firstDay: string | null;
  lastDay: string | null;
  /** Batches applied in the last hour: the Durable Object calls the recorders made. */
  flushesLastHour: number;
  databaseBytes: number;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS exposure (
  day TEXT NOT NULL,
  region TEXT NOT NULL,
  fingerprint TEXT NOT NULL,
  identity TEXT NOT NULL,
  decision TEXT NOT NULL,
  n INTEGER NOT NULL,
  PRIMARY KEY (day, region, fingerprint, identity, decision)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS batches (
  id TEXT PRIMARY KEY,
  at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS batches_at ON batches (at);
`;

const PIVOT = LEDGER_DECISIONS.map((d) => `SUM(CASE decision WHEN '${d}' THEN n ELSE 0 END) AS ${d}`).join(
  ", ",
);

function where(filter: LedgerFilter): { sql: string; args: string[] } {
  let sql = "day >= ? AND day <= ?";
  const args = [filter.from, filter.to];
  if (filter.region) {
    sql += " AND region = ?";
    args.push(filter.region);
  }
  if (filter.decisions && filter.decisions.length > 0) {
    sql += ` AND decision IN (${filter.decisions.map(() => "?").join(", ")})`;
    args.push(...filter.decisions);
  }
  return { sql, args };
}

export class ExposureLedger extends DurableObject<LedgerEnv> {
  private alarmScheduled = false;
  private prunedAt = 0;

  constructor(ctx: DurableObjectState, env: LedgerEnv) {
    super(ctx, env);
    ctx.storage.sql.exec(SCHEMA);
  }

  /**
   * Adds a flushed batch. Idempotent per `batchId`: a flush retried after a lost reply is
   * not counted twice. Returns false when the batch had already been applied.
   */
  async record(batchId: string, tuples: LedgerTuple[]): Promise<boolean> {
    const sql = this.ctx.storage.sql;
    const applied = this.ctx.storage.transactionSync(() => {
      if (sql.exec("SELECT 1 FROM batches WHERE id = ?", batchId).toArray().length > 0) return false;
      sql.exec("INSERT INTO batches (id, at) VALUES (?, ?)", batchId, Date.now());
      for (const [day, region, fingerprint, identity, decision, n] of tuples) {
        sql.exec(
          `INSERT INTO exposure (day, region, fingerprint, identity, decision, n) VALUES (?, ?, ?, ?, ?, ?)
           ON CONFLICT DO UPDATE SET n = n + excluded.n`,
          day,
          region,
          fingerprint,
          identity,
          decision,
          n,
        );
      }
      return true;
    });
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
    return applied;
  }

  /** Rows in the filter, one per (day, region, fingerprint, identity), ordered by those columns. */
  rows(filter: LedgerFilter): LedgerGroup[] {
    const w = where(filter);
    const cursor = this.ctx.storage.sql.exec<Record<string, string | number>>(
      `SELECT day, region, fingerprint, identity, ${PIVOT} FROM exposure WHERE ${w.sql}
       GROUP BY day, region, fingerprint, identity ORDER BY day, region, fingerprint, identity`,
      ...w.args,
    );
    const out: LedgerGroup[] = [];
    for (const r of cursor) {
      const decisions = {} as Record<LedgerDecision, number>;
      for (const d of LEDGER_DECISIONS) decisions[d] = Number(r[d]);
      out.push({
        day: String(r.day),
        region: String(r.region),
        fingerprint: String(r.fingerprint),
        identity: String(r.identity),
        decisions,
      });
    }
    return out;
  }

  /** Per-region totals; a customer is a distinct (fingerprint, identity). */
  summary(filter: LedgerFilter): LedgerRegionSummary[] {
    const w = where(filter);
    return this.ctx.storage.sql
      .exec<{
        region: string;
        customers: number;
        requests: number;
        blocked: number;
        firstDay: string;
        lastDay: string;
      }>(
        `SELECT region, COUNT(DISTINCT fingerprint || ' ' || identity) AS customers, SUM(n) AS requests,
         SUM(CASE decision WHEN 'block' THEN n ELSE 0 END) AS blocked, MIN(day) AS firstDay, MAX(day) AS lastDay
         FROM exposure WHERE ${w.sql} GROUP BY region ORDER BY region`,
        ...w.args,
      )
      .toArray();
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
    return { ...rows, flushesLastHour: flushes, databaseBytes: this.ctx.storage.sql.databaseSize };
  }

  /** Retention: drops days older than `EXPOSURE_RETENTION_DAYS` and stale batch ids, then re-arms. */
  override async alarm(): Promise<void> {
    const retention = numberVar(this.env.EXPOSURE_RETENTION_DAYS, DEFAULT_RETENTION_DAYS);
    if (retention.error) {
      log("warn", "exposure_retention_invalid", {
        error: `EXPOSURE_RETENTION_DAYS ${retention.error}`,
        using: DEFAULT_RETENTION_DAYS,
        fix: "set EXPOSURE_RETENTION_DAYS to a whole number of days, e.g. 400",
      });
    }
    const now = Date.now();
    const cutoff = utcDay(now - Math.floor(retention.value) * DAY_MS);
    const sql = this.ctx.storage.sql;
    const del = sql.exec("DELETE FROM exposure WHERE day < ?", cutoff);
    del.toArray();
    const deleted = del.rowsWritten;
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
