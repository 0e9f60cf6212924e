/**
 * Every var and secret of the deployment (SPEC section 1, wrangler.toml), as one valibot
 * schema, parsed once per isolate so a misconfigured deploy fails loudly, and the same way
 * for every reader (the gate, the admin surface, the ledger's recorder and Durable Object):
 * a ConfigError saying which var is wrong and how to fix it, answered as the gate's 500.
 *
 * The Cloudflare Access pair is checked apart, by the control plane only
 * (../control/admin/access-config.ts): a typo there must lock the admin surface (503), not
 * take the gate down.
 */
import * as v from "valibot";

export class ConfigError extends Error {}

/** A number var: unset or empty is `fallback`; otherwise a finite number at least `min` (exclusive when `positive`). */
function numberVar(fallback: number, positive: boolean, unit: string) {
  const wanted = `must be a ${positive ? "positive" : "non-negative"} number of ${unit}, e.g. ${JSON.stringify(String(fallback))}`;
  return v.pipe(
    v.optional(v.string(), ""),
    v.check((raw) => {
      if (raw === "") return true;
      const n = Number(raw);
      return Number.isFinite(n) && (positive ? n > 0 : n >= 0);
    }, wanted),
    v.transform((raw) => (raw === "" ? fallback : Number(raw))),
  );
}

/** A var that takes one of a few words; unset or empty is the first. */
function wordVar<const Words extends readonly [string, ...string[]]>(words: Words) {
  return v.pipe(
    v.optional(v.string(), ""),
    v.check(
      (raw) => raw === "" || words.includes(raw),
      `must be ${words.map((w) => JSON.stringify(w)).join(" or ")} (unset means ${JSON.stringify(words[0])})`,
    ),
    v.transform((raw) => (raw === "" ? words[0] : raw) as Words[number]),
  );
}

const originUrl = v.pipe(
  v.optional(v.string(), ""),
  v.check(
    (raw) => raw === "" || URL.canParse(raw),
    "is not an absolute URL (e.g. https://api.internal.example); unset it for route mode",
  ),
  // What the gate needs of it: origin and base path without a trailing slash, worked out
  // once per isolate rather than on every forwarded request.
  v.transform((raw) => {
    if (raw === "") return null;
    const url = new URL(raw);
    return `${url.origin}${url.pathname.replace(/\/$/, "")}`;
  }),
);

/** A secret (`wrangler secret put NAME`): optional, unset and empty alike mean "not set". */
const secret = v.optional(v.string());

const VARS = v.object({
  ORIGIN_URL: originUrl,
  POLICY_CACHE_SECONDS: numberVar(30, false, "seconds"),
  FAIL_MODE: wordVar(["closed", "open"]),
  ORIGIN_TIMEOUT_MS: numberVar(30_000, false, "milliseconds"),
  /** `false` turns off the public self-check page. */
  SELF_CHECK: wordVar(["true", "false"]),
  /** `off` stops exposure counting (the gate itself is unaffected; stored rows stay readable). */
  EXPOSURE_LEDGER: wordVar(["on", "off"]),
  EXPOSURE_RETENTION_DAYS: numberVar(400, true, "days"),
  EXPOSURE_FLUSH_SECONDS: numberVar(5, true, "seconds"),
  EXPOSURE_MAX_CUSTOMERS: numberVar(10_000, true, "customers per UTC day and region"),
  EXPOSURE_SHARD_CALLS_PER_SECOND: numberVar(100, true, "flushes per second"),
  ADMIN_TOKEN: secret,
  ORIGIN_AUTH_SECRET: secret,
  IDENTITY_SALT: secret,
  /** Cloudflare Access team domain, e.g. `example.cloudflareaccess.com` (SPEC section 9). */
  ACCESS_TEAM_DOMAIN: v.optional(v.string()),
  /** The Access application's audience (AUD) tag. */
  ACCESS_AUD: v.optional(v.string()),
});

const CONFIG = v.pipe(
  VARS,
  v.transform((vars) => ({
    originBase: vars.ORIGIN_URL,
    policyCacheMs: vars.POLICY_CACHE_SECONDS * 1000,
    failOpen: vars.FAIL_MODE === "open",
    originTimeoutMs: vars.ORIGIN_TIMEOUT_MS,
    selfCheck: vars.SELF_CHECK === "true",
    ledger: {
      enabled: vars.EXPOSURE_LEDGER === "on",
      retentionDays: Math.floor(vars.EXPOSURE_RETENTION_DAYS),
      flushMs: vars.EXPOSURE_FLUSH_SECONDS * 1000,
      maxCustomers: Math.floor(vars.EXPOSURE_MAX_CUSTOMERS),
      shardCallsPerSecond: vars.EXPOSURE_SHARD_CALLS_PER_SECOND,
    },
  })),
);

export type Vars = v.InferInput<typeof VARS>;

/**
 * The data plane's env: what wrangler generates from wrangler.toml and wrangler.control.toml
 * (`npm run cf-typegen`: the bindings and the vars they set), plus the schema's view of every
 * var and secret, so those wrangler cannot see (ORIGIN_URL, ADMIN_TOKEN, ...) are there, optional.
 */
export type GateEnv = Env & Vars;

/** The control plane's env: the same bindings but the CONTROL service binding, which only the gate has. */
export type ControlEnv = Omit<Env, "CONTROL"> & Vars;

/** The parsed vars. */
export type GateConfig = v.InferOutput<typeof CONFIG>;

const NAMES = Object.keys(VARS.entries) as (keyof Vars)[];

/** `NAME="value" must be …` for each wrong var, with where to fix it. */
function configError(issues: readonly v.BaseIssue<unknown>[]): ConfigError {
  const lines = issues.map((issue) => {
    const name = String(issue.path?.[0]?.key ?? "?");
    const wanted =
      issue.kind === "schema" ? "must be a string (quote it in wrangler.toml [vars])" : issue.message;
    return `${name}=${JSON.stringify(issue.input)} ${wanted}`;
  });
  return new ConfigError(`${lines.join("; ")} (wrangler.toml [vars], or wrangler secret put for a secret)`);
}

let cached: { env: Vars; raw: unknown[]; config: GateConfig } | undefined;

/**
 * The parsed vars of `env`, memoised: by object identity first, then by the raw values, so
 * a runtime that hands each request a fresh env object still parses only once. Throws a
 * ConfigError naming every wrong var.
 */
export function readConfig(env: Vars): GateConfig {
  if (cached?.env === env) return cached.config;
  if (cached && NAMES.every((name, i) => env[name] === cached?.raw[i])) {
    cached.env = env;
    return cached.config;
  }
  const raw = NAMES.map((name) => env[name]);
  const parsed = v.safeParse(CONFIG, Object.fromEntries(NAMES.map((name, i) => [name, raw[i]])), {
    abortEarly: false,
  });
  if (!parsed.success) throw configError(parsed.issues);
  cached = { env, raw, config: parsed.output };
  return parsed.output;
}
