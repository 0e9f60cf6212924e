/**
 * Where policy commands read and write: wrangler KV (`--local` for the dev store,
 * otherwise the deployed namespace) or a deployed gate's admin API (`--url --token`).
 * Both give the same answers, because both end in `src/store/write.ts` and `history.ts`.
 */
import { userInfo } from "node:os";
import type { PolicyDocument } from "../src/policy/schema";
import { etagOf, sha256Hex } from "../src/store/etag";
import { type HistoryView, readHistory } from "../src/store/history";
import { historyKey, POLICY_KEY } from "../src/store/keys";
import { type ActiveMeta, asActiveMeta } from "../src/store/meta";
import { type Precondition, pushPolicy, rollbackPolicy, type WriteResult } from "../src/store/write";
import { HISTORY, WRITTEN } from "./answers";
import { CliError, EXIT, usage } from "./errors";
import type { CliIO } from "./io";
import { AdminClient } from "./remote";
import { wranglerStorage } from "./wrangler";

export interface ActivePolicy {
  content: string;
  etag: string;
  meta: ActiveMeta | null;
}

export interface PolicyBackend {
  /** For messages: "local KV (wrangler)", "https://…". */
  where: string;
  active(): Promise<ActivePolicy | null>;
  /** The stored content of `policy@<version>`, or null. */
  stored(version: string): Promise<string | null>;
  push(doc: PolicyDocument, pre: Precondition): Promise<WriteResult>;
  rollback(version: string, pre: Precondition): Promise<WriteResult>;
  history(): Promise<HistoryView>;
}

/** Options every policy command accepts (see `storeHelp`). */
export const STORE_OPTIONS = {
  url: { type: "string" },
  token: { type: "string" },
  local: { type: "boolean" },
  env: { type: "string" },
  config: { type: "string" },
  "persist-to": { type: "string" },
} as const;

export const storeHelp = `Where the policy lives (default: the deployed KV namespace, through wrangler):
  --local              the local dev store (what \`wrangler dev\` / \`npm start\` use)
  --persist-to DIR     with --local: the store under DIR instead of .wrangler/state
  --env NAME           the wrangler environment ([env.NAME] in wrangler.toml)
  --config PATH        another wrangler.toml
  --url URL            talk to a deployed gate's admin API instead (env REGION_GATE_URL)
  --token TOKEN        its ADMIN_TOKEN (env REGION_GATE_TOKEN; prefer the env var)`;

export interface StoreFlags {
  url?: string | undefined;
  token?: string | undefined;
  local?: boolean | undefined;
  env?: string | undefined;
  config?: string | undefined;
  "persist-to"?: string | undefined;
}

function actor(io: CliIO): string {
  let name = io.env.USER ?? "";
  try {
    name = userInfo().username || name;
  } catch {
    // No passwd entry (containers): fall back to $USER.
  }
  return `cli:${(name || "unknown").replace(/[^\w.@-]/g, "_").slice(0, 32)}`;
}

/** The admin client from flags or env, or null when neither names a URL. */
export function adminClient(io: CliIO, flags: StoreFlags): AdminClient | null {
  const url = flags.url ?? (flags.local ? undefined : io.env.REGION_GATE_URL);
  if (!url) return null;
  const token = flags.token ?? io.env.REGION_GATE_TOKEN;
  if (!token) throw usage(`${url} needs the admin token: set REGION_GATE_TOKEN (or pass --token)`);
  return new AdminClient(url, token);
}

function remoteBackend(client: AdminClient): PolicyBackend {
  const write = async (method: string, path: string, body: unknown, pre: Precondition) => {
    const headers: Record<string, string> = {};
    if (pre && "ifMatch" in pre) headers["if-match"] = pre.ifMatch;
    if (pre && "ifNoneMatch" in pre) headers["if-none-match"] = "*";
    return (await client.json(method, path, WRITTEN, { body, headers })).body;
  };
  /** A stored document, byte for byte; null for a 404 with `absent` as its code. */
  const document = async (path: string, absent: string) => {
    const res = await client.send("GET", path);
    if (res.status === 404 && (await client.errorCode(res)) === absent) return null;
    if (!res.ok) return client.fail(res, "GET", path);
    // The admin API tags every document it serves with its ETag; an echo or a page does not.
    const etag = res.headers.get("etag");
    if (etag === null) return client.unexpected("GET", path, res, "without an ETag");
    return { res, etag, content: await res.text() };
  };
  return {
    where: client.base,
    async active() {
      const found = await document("/policy", "policy_absent");
      if (found === null) return null;
      const version = found.res.headers.get("x-region-gate-policy");
      const modified = found.res.headers.get("last-modified");
      return {
        content: found.content,
        etag: found.etag,
        meta:
          version && modified
            ? { version, sha256: "", at: new Date(modified).toISOString(), by: "", via: "push" }
            : null,
      };
    },
    stored: async (version) =>
      (await document(`/policy?version=${encodeURIComponent(version)}`, "version_not_found"))?.content ??
      null,
    push: (doc, pre) => write("PUT", "/policy", doc, pre),
    rollback: (version, pre) => write("POST", "/policy/rollback", { version }, pre),
    history: async () => (await client.json("GET", "/policy/history", HISTORY)).body,
  };
}

/** Picks the backend from the flags: --url/REGION_GATE_URL, else wrangler (--local or remote). */
export function policyBackend(io: CliIO, flags: StoreFlags): PolicyBackend {
  if (flags.url && flags.local)
    throw usage("--url and --local exclude each other; pick the deployed gate or the local store");
  if (flags["persist-to"] && !flags.local)
    throw usage("--persist-to only applies to the local store; add --local");
  const client = adminClient(io, flags);
  if (client) return remoteBackend(client);
  const storage = wranglerStorage({
    local: flags.local === true,
    env: flags.env,
    config: flags.config,
    persistTo: flags["persist-to"],
    cwd: io.cwd,
    processEnv: io.env,
  });
  const by = actor(io);
  return {
    where: flags.local
      ? `local KV${flags["persist-to"] ? ` in ${flags["persist-to"]}` : ""} (wrangler)`
      : `KV namespace POLICY${flags.env ? ` (env ${flags.env})` : ""} (wrangler --remote)`,
    async active() {
      const entry = await storage.read(POLICY_KEY);
      if (entry === null) return null;
      return {
        content: entry.value,
        etag: etagOf(await sha256Hex(entry.value)),
        meta: asActiveMeta(entry.meta),
      };
    },
    stored: async (version) => (await storage.read(historyKey(version)))?.value ?? null,
    push: (doc, pre) => pushPolicy(storage, doc, { by, now: new Date() }, pre),
    rollback: (version, pre) => rollbackPolicy(storage, version, { by, now: new Date() }, pre),
    history: () => readHistory(storage),
  };
}

/** Maps a refused write to its exit code and message. */
export function writeFailed(result: Extract<WriteResult, { ok: false }>): CliError {
  const code = result.status === 422 ? EXIT.invalid : EXIT.conflict;
  return new CliError(
    code,
    `${result.message} (${result.code})`,
    (result.errors ?? []).map((e) => `  ${e.path}: ${e.message}`),
  );
}
