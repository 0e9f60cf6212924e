/**
 * The narrow view of KV that policy reads and writes go through: the worker's binding
 * (./kv-storage.ts) and the CLI's wrangler calls (cli/wrangler.ts) both implement it.
 */
import type { ActiveMeta, HistoryMeta } from "./meta";

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
