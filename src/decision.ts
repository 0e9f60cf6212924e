/**
 * The decision of SPEC section 3 as a pure function: compiled policy + request facts +
 * instant → decision and the rule that produced it. No I/O, so the worker, the admin
 * `explain` route and the CLI all share it.
 */
import { cidrContains, parseIp } from "./policy/cidr";
import type { CompiledPolicy, CompiledWindow } from "./policy/compile";

export type Decision =
  | "out_of_scope"
  | "unknown"
  | "pass"
  | "exempt"
  | "observe"
  | "warn"
  | "block"
  | "monitor";

export interface RequestFacts {
  /** URL pathname as received (already dot-segment-resolved by the URL parser). */
  path: string;
  /** `request.cf.country`; never a client header. */
  country?: string | null;
  /** `request.cf.regionCode` (the part after `CC-`). */
  regionCode?: string | null;
  /** `CF-Connecting-IP`. */
  ip?: string | null;
  /** HMAC fingerprint of the bearer key, when the caller computed it. */
  fingerprint?: string | null;
}

export interface Verdict {
  decision: Decision;
  /** The region code that matched (`CN`, `UA-43`, `XX`, `T1`), or null when out of scope. */
  region: string | null;
  country: string | null;
  /** Human-readable rule, e.g. `enforcement.regions.CN.blockFrom=2024-07-09T00:00:00.000Z`. */
  rule: string;
  /** The enforcement window that applied, when the region is unsupported. */
  window?: CompiledWindow;
}

/** Decisions that count as traffic from an unsupported region (SPEC section 6). */
export const EXPOSURE_DECISIONS: ReadonlySet<Decision> = new Set([
  "observe",
  "warn",
  "block",
  "monitor",
  "exempt",
]);

const iso = (ms: number) => (Number.isFinite(ms) ? new Date(ms).toISOString() : "always");

/**
 * Normalises a pathname the way an origin is likely to serve it, so that scope cannot be
 * dodged with `//v1/`, `/V1/`, `%2e%2e` or `%2F`: percent-decoding, collapsing slashes,
 * resolving dot segments, lower-casing.
 */
export function normalizePath(pathname: string): string {
  let path = pathname;
  if (path.includes("%")) {
    try {
      path = decodeURIComponent(path);
    } catch {
      // Malformed escapes: judge the raw text; the origin will refuse it anyway.
    }
  }
  if (path.includes("//") || path.includes("/.") || path.includes("\\")) {
    const out: string[] = [];
    for (const seg of path.replaceAll("\\", "/").split("/")) {
      if (seg === "" || seg === ".") continue;
      if (seg === "..") out.pop();
      else out.push(seg);
    }
    path = `/${out.join("/")}${path.endsWith("/") && out.length > 0 ? "/" : ""}`;
  }
  return path.toLowerCase();
}

/** True when the gate judges this path (include prefix matched, no exclude prefix matched). */
export function inScope(policy: CompiledPolicy, pathname: string): boolean {
  const path = normalizePath(pathname);
  const starts = (prefix: string) => path.startsWith(prefix) || `${path}/` === prefix;
  return policy.include.some(starts) && !policy.exclude.some(starts);
}

function blockOrMonitor(
  policy: CompiledPolicy,
  region: string,
  country: string | null,
  rule: string,
): Verdict {
  return policy.monitor
    ? { decision: "monitor", region, country, rule: `${rule} (mode=monitor)` }
    : { decision: "block", region, country, rule };
}

function exemption(policy: CompiledPolicy, facts: RequestFacts, now: number): string | null {
  if (facts.fingerprint && policy.keyExemptions.size > 0) {
    const until = policy.keyExemptions.get(facts.fingerprint);
    if (until !== undefined && now < until) return `exemptions[apiKeyFingerprint=${facts.fingerprint}]`;
  }
  if (facts.ip && policy.cidrExemptions.length > 0) {
    const ip = parseIp(facts.ip);
    if (ip !== null) {
      for (const e of policy.cidrExemptions) {
        if (now < e.until && cidrContains(e.cidr, ip)) return `exemptions[cidr=${e.text}]`;
      }
    }
  }
  return null;
}

/**
 * Decides one request. Rows are taken in the order of SPEC section 3; an exemption only
 * relieves a request from an unsupported region (a supported one passes anyway).
 *
 * @example decide(policy, { path: "/v1/chat", country: "CN" }, Date.now()).decision // "block"
 */
export function decide(policy: CompiledPolicy, facts: RequestFacts, now: number): Verdict {
  if (!inScope(policy, facts.path)) {
    return { decision: "out_of_scope", region: null, country: facts.country ?? null, rule: "scope" };
  }
  const country = facts.country || null;
  if (country === null || country === "XX") {
    return policy.unknownBlock
      ? blockOrMonitor(policy, "XX", country, "unknownCountry=block")
      : { decision: "unknown", region: "XX", country, rule: "unknownCountry=allow" };
  }
  if (country === "T1") {
    return policy.torBlock
      ? blockOrMonitor(policy, "T1", country, "tor=block")
      : { decision: "pass", region: "T1", country, rule: "tor=allow" };
  }

  const sub = facts.regionCode ? `${country}-${facts.regionCode}` : null;
  let region: string;
  if (sub !== null && policy.unsupportedSubdivisions.has(sub)) region = sub;
  else if (!policy.supported.has(country)) region = country;
  else return { decision: "pass", region: sub ?? country, country, rule: `supported: ${country}` };

  const exempt = exemption(policy, facts, now);
  if (exempt) return { decision: "exempt", region, country, rule: exempt };

  let window = sub === null ? undefined : policy.windows.get(sub);
  if (window) region = sub!;
  else window = policy.windows.get(country) ?? policy.defaultWindow;

  if (window.blockFrom !== null && now >= window.blockFrom) {
    return {
      ...blockOrMonitor(policy, region, country, `${window.source}.blockFrom=${iso(window.blockFrom)}`),
      window,
    };
  }
  if (window.warnFrom !== null && now >= window.warnFrom) {
    return {
      decision: "warn",
      region,
      country,
      rule: `${window.source}.warnFrom=${iso(window.warnFrom)}`,
      window,
    };
  }
  const until = window.warnFrom ?? window.blockFrom;
  return {
    decision: "observe",
    region,
    country,
    rule: `${window.source}: before ${until === null ? "any enforcement (blockFrom=null)" : iso(until)}`,
    window,
  };
}
