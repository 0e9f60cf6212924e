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
  /** Cloudflare Access team domain, e.g. `example.cloudflareaccess.com` (SPEC section 9). */
  ACCESS_TEAM_DOMAIN?: string;
  /** The Access application's audience (AUD) tag. */
  ACCESS_AUD?: string;
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

/** Cloudflare Access in front of the admin surface (SPEC section 9), when both vars are set. */
export interface AccessConfig {
  teamDomain: string;
  aud: string;
  /** `https://<team domain>`: the `iss` of the team's tokens. */
  issuer: string;
  /** Where the team publishes its signing keys (a JWKS). */
  certsUrl: string;
}

const HOSTNAME = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/;
let accessCached: { key: string; config: AccessConfig | null } | undefined;

/**
 * The Access settings, or null when neither var is set. Only the admin surface reads them,
 * so the gate's hot path never does. One var without the other is a ConfigError: the
 * operator meant to turn Access on, and silently leaving it off would be unsafe.
 */
export function readAccessConfig(env: GateEnv): AccessConfig | null {
  const key = `${env.ACCESS_TEAM_DOMAIN ?? ""}|${env.ACCESS_AUD ?? ""}`;
  if (accessCached?.key === key) return accessCached.config;
  const rawDomain = env.ACCESS_TEAM_DOMAIN?.trim() ?? "";
  const aud = env.ACCESS_AUD?.trim() ?? "";
  let config: AccessConfig | null = null;
  if (rawDomain !== "" || aud !== "") {
    if (rawDomain === "" || aud === "") {
      const [set, unset] =
        rawDomain === "" ? ["ACCESS_AUD", "ACCESS_TEAM_DOMAIN"] : ["ACCESS_TEAM_DOMAIN", "ACCESS_AUD"];
      throw new ConfigError(
        `${set} is set but ${unset} is not: set both (the team domain, e.g. example.cloudflareaccess.com, and the Access application's AUD tag) or neither`,
      );
    }
    // The Zero Trust dashboard shows the team domain with and without a scheme; take both.
    const teamDomain = rawDomain
      .replace(/^https:\/\//i, "")
      .replace(/\/$/, "")
      .toLowerCase();
    if (!HOSTNAME.test(teamDomain)) {
      throw new ConfigError(
        `ACCESS_TEAM_DOMAIN=${JSON.stringify(env.ACCESS_TEAM_DOMAIN)} is not a host name; use the team domain alone, e.g. example.cloudflareaccess.com`,
      );
    }
    config = {
      teamDomain,
      aud,
      issuer: `https://${teamDomain}`,
      certsUrl: `https://${teamDomain}/cdn-cgi/access/certs`,
    };
  }
  accessCached = { key, config };
  return config;
}
