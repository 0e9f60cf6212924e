/**
 * Bindings and vars (SPEC section 1), read and checked once per isolate so a
 * misconfigured deploy fails loudly instead of silently gating wrong.
 */
export type GateEnv = Env & {
  ORIGIN_URL?: string;
  ADMIN_TOKEN?: string;
  ORIGIN_AUTH_SECRET?: string;
  IDENTITY_SALT?: string;
  /** `false` turns off the public self-check page. */
  SELF_CHECK?: string;
  /** `off` stops exposure counting (the gate itself is unaffected). */
  EXPOSURE_LEDGER?: string;
};

export interface GateConfig {
  originUrl: URL | null;
  policyCacheMs: number;
  failOpen: boolean;
  originTimeoutMs: number;
}

export class ConfigError extends Error {}

function positiveInt(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0)
    throw new ConfigError(`${name}=${JSON.stringify(raw)} must be a non-negative number`);
  return n;
}

let cached: { env: GateEnv; key: string; config: GateConfig } | undefined;

/**
 * Parses the vars of `env`, memoised: by object identity first, then by the raw values,
 * so a runtime that hands each request a fresh env object still parses only once.
 */
export function readConfig(env: GateEnv): GateConfig {
  if (cached?.env === env) return cached.config;
  const key = `${env.ORIGIN_URL}|${env.POLICY_CACHE_SECONDS}|${env.FAIL_MODE}|${env.ORIGIN_TIMEOUT_MS}`;
  if (cached?.key === key) {
    cached.env = env;
    return cached.config;
  }
  let originUrl: URL | null = null;
  if (env.ORIGIN_URL) {
    try {
      originUrl = new URL(env.ORIGIN_URL);
    } catch {
      throw new ConfigError(
        `ORIGIN_URL=${JSON.stringify(env.ORIGIN_URL)} is not an absolute URL (e.g. https://api.internal.example)`,
      );
    }
  }
  const failMode = env.FAIL_MODE || "closed";
  if (failMode !== "closed" && failMode !== "open") {
    throw new ConfigError(`FAIL_MODE=${JSON.stringify(env.FAIL_MODE)} must be "closed" or "open"`);
  }
  const config: GateConfig = {
    originUrl,
    policyCacheMs: positiveInt("POLICY_CACHE_SECONDS", env.POLICY_CACHE_SECONDS, 30) * 1000,
    failOpen: failMode === "open",
    originTimeoutMs: positiveInt("ORIGIN_TIMEOUT_MS", env.ORIGIN_TIMEOUT_MS, 30000),
  };
  cached = { env, key, config };
  return config;
}
