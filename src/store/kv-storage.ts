/**
 * `PolicyStorage` over the worker's KV binding.
 */
import type { PolicyStorage } from "./storage";

/** Wraps a KV namespace for the shared history logic. */
export function kvStorage(kv: KVNamespace): PolicyStorage {
  const read = async (key: string) => {
    const { value, metadata } = await kv.getWithMetadata(key, "text");
    return value === null ? null : { value, meta: metadata };
  };
  return {
    read,
    head: read,
    async list(prefix) {
      const out: Array<{ name: string; meta: unknown }> = [];
      let cursor: string | undefined;
      for (;;) {
        const page = await kv.list({ prefix, ...(cursor ? { cursor } : {}) });
        for (const key of page.keys) out.push({ name: key.name, meta: key.metadata });
        if (page.list_complete) return out;
        cursor = page.cursor;
      }
    },
    async write(entries) {
      for (const { key, value, meta } of entries) await kv.put(key, value, { metadata: meta });
    },
  };
}
