/**
 * Where policy commands read and write: wrangler KV (`--local` for the dev store,
 * otherwise the deployed namespace) or a deployed gate's admin API (`--url --token`).
 * Both give the same answers, because both end in `src/policy/history.ts`.
 */
import { userInfo } from "node:os";
import {
  type ActiveMeta,
  asActiveMeta,
  etagOf,
  type HistoryView,
  historyKey,
  POLICY_KEY,
  type Precondition,
  pushPolicy,
  readHistory,
  rollbackPolicy,
  sha256Hex,
  type WriteResult,
} from "../src/policy/history";
import type { PolicyDocument } from "../src/policy/schema";
import { validatePolicy } from "../src/policy/schema";
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
    return (await client.json<WriteResult>(method, path, { body, headers })).body;
  };
  return {
    where: client.base,
    async active() {
      const res = await client.send("GET", "/policy");
      if (res.status === 404) {
        const body = (await res
          .clone()
          .json()
          .catch(() => ({}))) as { error?: { code?: string } };
        if (body.error?.code === "policy_absent") return null;
      }
      if (!res.ok) return client.fail(res);
      const content = await res.text();
      const version = res.headers.get("x-region-gate-policy");
      const modified = res.headers.get("last-modified");
      return {
        content,
        etag: res.headers.get("etag") ?? etagOf(await sha256Hex(content)),
        meta:
          version && modified
            ? { version, sha256: "", at: new Date(modified).toISOString(), by: "", via: "push" }
            : null,
      };
    },
    async stored(version) {
      const res = await client.send("GET", `/policy?version=${encodeURIComponent(version)}`);
      if (res.status === 404) {
        const body = (await res
          .clone()
          .json()
          .catch(() => ({}))) as { error?: { code?: string } };
        if (body.error?.code === "version_not_found") return null;
      }
      if (!res.ok) return client.fail(res);
      return res.text();
    },
    push: (doc, pre) => write("PUT", "/policy", doc, pre),
    rollback: (version, pre) => write("POST", "/policy/rollback", { version }, pre),
    history: async () => (await client.json<HistoryView>("GET", "/policy/history")).body,
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
  const validate = (doc: unknown) => {
    const r = validatePolicy(doc);
    return r.ok ? [] : r.errors;
  };
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
    rollback: (version, pre) => rollbackPolicy(storage, version, validate, { by, now: new Date() }, pre),
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
