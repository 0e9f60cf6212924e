/**
 * `explain`: the decision for a described case, with the rule behind it. The admin route
 * (`GET /__region-gate/explain`) and the CLI (`region-gate explain`) both parse their input
 * and answer through this module and `decide`, so they cannot disagree with each other or
 * with the gate.
 */

import { parseDay } from "../platform/day";
import { asnOfCode } from "./asn";
import { parseIp } from "./cidr";
import { countryProblem, subdivisionProblem } from "./code-hints";
import { boundText, type CompiledPolicy } from "./compile";
import { type Decision, decide } from "./decision";
import { isRfc3339 } from "./schema";

/** Raw parameters, as query strings or CLI flags. */
export interface ExplainQuery {
  country?: string | undefined;
  region?: string | undefined;
  at?: string | undefined;
  ip?: string | undefined;
  fingerprint?: string | undefined;
  path?: string | undefined;
  asn?: string | undefined;
}

/** A parsed case. `path: null` means "the policy's first judged include prefix" (`judgedPath`). */
export interface ExplainCase {
  country: string | null;
  regionCode: string | null;
  at: number;
  ip: string | null;
  fingerprint: string | null;
  path: string | null;
  /** `request.cf.asn`; absent or null: no network. */
  asn?: number | null;
}

export interface ExplainProblem {
  param: keyof ExplainQuery;
  message: string;
}

export interface Explanation {
  policyVersion: string;
  at: string;
  case: {
    country: string | null;
    region: string | null;
    ip: string | null;
    fingerprint: string | null;
    path: string;
    asn: number | null;
  };
  /** The case's network: its code, its class when it has one, and whether it is unsupported. */
  network: { code: string; class: string | null; unsupported: boolean } | null;
  decision: Decision;
  /** The code that matched (`CN`, `UA-43`, `XX`, `T1`, `AS60068`), null out of scope. */
  region: string | null;
  rule: string;
  window: { source: string; warnFrom: string | null; blockFrom: string | null } | null;
  /** What the client and the origin see, in words. */
  outcome: string;
}

const OUTCOMES: Record<Decision, string> = {
  out_of_scope: "passes untouched: the path is outside the policy's scope",
  unknown: "passes (unknownCountry=allow), marked x-region-gate-decision: unknown",
  pass: "passes to the origin unchanged",
  exempt: "passes (exempted), marked exempt and counted in the exposure ledger",
  observe: "passes, counted in the exposure ledger; no notice yet",
  warn: "passes with a Sunset header announcing the block, counted in the exposure ledger",
  block: "answered 403 unsupported_country_region_territory; the origin never sees it",
  monitor: "passes (mode=monitor) marked monitor; enforce mode would block it",
};

/** Parses `at`: RFC 3339 with an offset, or a day (`2024-07-09` = midnight UTC). */
export function parseInstant(text: string): number | null {
  if (isRfc3339(text)) return Date.parse(text);
  return parseDay(text);
}

const given = (s: string | undefined): s is string => s !== undefined && s.trim() !== "";

/**
 * Checks the parameters of an explain request and returns every problem at once.
 *
 * Codes must be real ISO 3166 codes as the edge sends them (upper case; `XX`, `T1`); a
 * problem names the code meant where one is close (`UK` → GB).
 *
 * @example parseExplainQuery({ country: "UA", region: "UA-43" }, Date.now())
 *   // → { ok: true, value: { country: "UA", regionCode: "43", ... } }
 */
export function parseExplainQuery(
  q: ExplainQuery,
  now: number,
): { ok: true; value: ExplainCase } | { ok: false; problems: ExplainProblem[] } {
  const problems: ExplainProblem[] = [];
  let country: string | null = null;
  let countryOk = false;
  if (given(q.country)) {
    country = q.country.trim();
    const problem = countryProblem(country);
    countryOk = problem === null;
    if (problem !== null) problems.push({ param: "country", message: problem });
  }
  let regionCode: string | null = null;
  if (given(q.region)) {
    const raw = q.region.trim();
    const dash = raw.indexOf("-");
    regionCode = dash === -1 ? raw : raw.slice(dash + 1);
    if (country === null) {
      problems.push({ param: "region", message: "a region needs a country; add country (e.g. country=UA)" });
    } else if (dash !== -1 && raw.slice(0, dash).toUpperCase() !== country.toUpperCase()) {
      problems.push({
        param: "region",
        message: `${JSON.stringify(q.region)} is not inside ${country}; give ${country}-<code> or just the code`,
      });
    } else if (!/^[A-Za-z0-9]{1,3}$/.test(regionCode)) {
      problems.push({
        param: "region",
        message: `${JSON.stringify(q.region)} is not a subdivision code; use ISO 3166-2 (e.g. UA-43 or 43)`,
      });
    } else if (countryOk) {
      // Judged against ISO 3166-2: an unlisted code would silently be decided as its country.
      const problem = subdivisionProblem(country, raw, regionCode);
      if (problem !== null) problems.push({ param: "region", message: problem });
    }
  }
  let at = now;
  if (given(q.at) && q.at.trim() !== "now") {
    const parsed = parseInstant(q.at.trim());
    if (parsed === null) {
      problems.push({
        param: "at",
        message: `${JSON.stringify(q.at)} is not a time; use RFC 3339 with an offset (2024-07-09T10:00:00Z) or a day (2024-07-09)`,
      });
    } else at = parsed;
  }
  const ip = given(q.ip) ? q.ip.trim() : null;
  if (ip !== null && parseIp(ip) === null) {
    problems.push({ param: "ip", message: `${JSON.stringify(q.ip)} is not an IPv4 or IPv6 address` });
  }
  const fp = given(q.fingerprint) ? q.fingerprint.trim() : null;
  if (fp !== null && !/^[0-9a-f]{16}$/.test(fp)) {
    problems.push({
      param: "fingerprint",
      message: `${JSON.stringify(q.fingerprint)} is not a key fingerprint (16 lower-case hex; see \`region-gate key fingerprint\`)`,
    });
  }
  let asn: number | null = null;
  if (given(q.asn)) {
    // `16509` or `AS16509`, as the edge's number or as the ledger writes it.
    const raw = q.asn.trim();
    asn = /^[0-9]+$/.test(raw) ? asnOfCode(`AS${raw}`) : asnOfCode(raw.toUpperCase());
    if (asn === null) {
      problems.push({
        param: "asn",
        message: `${JSON.stringify(q.asn)} is not an ASN; give the network's number from 1 to 4294967295 (16509 or AS16509)`,
      });
    }
  }
  const path = given(q.path) ? q.path.trim() : null;
  if (path !== null && !path.startsWith("/")) {
    problems.push({ param: "path", message: `${JSON.stringify(q.path)} must be a URL path starting with /` });
  }
  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, value: { country, regionCode, at, ip, fingerprint: fp, path, asn } };
}

/** Decides the case with `policy` at `c.at` and says which rule did it. */
export function explainCase(policy: CompiledPolicy, c: ExplainCase): Explanation {
  const asn = c.asn ?? null;
  const path = c.path ?? policy.defaultPath;
  const verdict = decide(
    policy,
    { path, country: c.country, regionCode: c.regionCode, ip: c.ip, fingerprint: c.fingerprint, asn },
    c.at,
  );
  return {
    policyVersion: policy.version,
    at: new Date(c.at).toISOString(),
    case: {
      country: c.country,
      region: c.country && c.regionCode ? `${c.country}-${c.regionCode}` : null,
      ip: c.ip,
      fingerprint: c.fingerprint,
      path,
      asn,
    },
    network:
      asn === null
        ? null
        : {
            code: `AS${asn}`,
            class: policy.asnClass.get(asn) ?? null,
            unsupported: policy.unsupportedNetworks.has(asn),
          },
    decision: verdict.decision,
    region: verdict.region,
    rule: verdict.rule,
    window: verdict.window
      ? {
          source: verdict.window.source,
          warnFrom: boundText(verdict.window.warnFrom),
          blockFrom: boundText(verdict.window.blockFrom),
        }
      : null,
    outcome:
      verdict.network && verdict.decision === "block"
        ? "answered 403 unsupported_network; the origin never sees it"
        : OUTCOMES[verdict.decision],
  };
}
