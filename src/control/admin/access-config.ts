/**
 * Cloudflare Access in front of the admin surface (SPEC section 9): the ACCESS_TEAM_DOMAIN
 * and ACCESS_AUD pair, checked apart from the other vars (../../platform/config.ts) so that
 * a typo there locks the admin surface (503) and never the gate.
 */
import * as v from "valibot";
import { ConfigError, type Vars } from "../../platform/config";

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

/** The team domain as the Zero Trust dashboard shows it, with or without a scheme. */
const teamDomain = v.pipe(
  v.string(),
  v.transform((raw) =>
    raw
      .replace(/^https:\/\//i, "")
      .replace(/\/$/, "")
      .toLowerCase(),
  ),
  v.regex(HOSTNAME, "is not a host name; use the team domain alone, e.g. example.cloudflareaccess.com"),
);

const ACCESS = v.pipe(
  v.object({
    ACCESS_TEAM_DOMAIN: v.pipe(v.optional(v.string(), ""), v.trim()),
    ACCESS_AUD: v.pipe(v.optional(v.string(), ""), v.trim()),
  }),
  v.rawTransform(({ dataset, addIssue, NEVER }) => {
    const { ACCESS_TEAM_DOMAIN: domain, ACCESS_AUD: aud } = dataset.value;
    if (domain === "" && aud === "") return null;
    if (domain === "" || aud === "") {
      const [set, unset] =
        domain === "" ? ["ACCESS_AUD", "ACCESS_TEAM_DOMAIN"] : ["ACCESS_TEAM_DOMAIN", "ACCESS_AUD"];
      addIssue({
        message: `${set} is set but ${unset} is not: set both (the team domain, e.g. example.cloudflareaccess.com, and the Access application's AUD tag) or neither`,
      });
      return NEVER;
    }
    const host = v.safeParse(teamDomain, domain);
    if (!host.success) {
      addIssue({ message: `ACCESS_TEAM_DOMAIN=${JSON.stringify(domain)} ${host.issues[0].message}` });
      return NEVER;
    }
    return {
      teamDomain: host.output,
      aud,
      issuer: `https://${host.output}`,
      certsUrl: `https://${host.output}/cdn-cgi/access/certs`,
    } satisfies AccessConfig;
  }),
);

let accessCached: { domain: unknown; aud: unknown; config: AccessConfig | null } | undefined;

/**
 * The Access settings, or null when neither var is set. Only the admin surface reads them,
 * so the gate's hot path never does. One var without the other is a ConfigError: the
 * operator meant to turn Access on, and silently leaving it off would be unsafe.
 */
export function readAccessConfig(env: Vars): AccessConfig | null {
  const domain = env.ACCESS_TEAM_DOMAIN;
  const aud = env.ACCESS_AUD;
  if (accessCached && accessCached.domain === domain && accessCached.aud === aud) return accessCached.config;
  const parsed = v.safeParse(ACCESS, { ACCESS_TEAM_DOMAIN: domain, ACCESS_AUD: aud });
  if (!parsed.success) throw new ConfigError(parsed.issues[0].message);
  accessCached = { domain, aud, config: parsed.output };
  return parsed.output;
}
