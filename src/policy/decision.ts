/**
 * The decision of SPEC section 3 as a pure function: compiled policy + request facts +
 * instant → decision and the rule that produced it. No I/O, so the worker, the admin
 * `explain` route and the CLI all share it.
 */
import { findCidrExemption } from "./cidr-index";
import type { CompiledNetwork, CompiledPolicy, CompiledWindow } from "./compile";
import { anyCovers, includeCovers } from "./scope";

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
  /** `request.cf.asn`: the network the request came through. */
  asn?: number | null;
}

export interface Verdict {
  decision: Decision;
  /** The code that matched (`CN`, `UA-43`, `XX`, `T1`, or `AS16509` when the network side decided), null out of scope. */
  region: string | null;
  country: string | null;
  /** Human-readable rule, e.g. `enforcement.regions.CN.blockFrom=2024-07-09T00:00:00.000Z`. */
  rule: string;
  /** The enforcement window that applied, when the region or the network is unsupported. */
  window?: CompiledWindow;
  /** The unsupported network, when its side decided (then `region` is its `AS<number>`). */
  network?: CompiledNetwork;
}

/** Decodes `%XX` escapes of ASCII characters only; never throws on malformed or non-UTF-8 escapes. */
function decodeAscii(path: string): string {
  return path.replace(/%([0-7][0-9a-fA-F])/g, (_, hex: string) =>
    String.fromCharCode(Number.parseInt(hex, 16)),
  );
}

/**
 * Collapses empty and `.` segments and resolves `..`; `stripParams` also drops `;params`
 * (Tomcat and Jetty read `/..;/` as `/../`). Null when a `..` climbs above the root.
 */
function resolveSegments(path: string, stripParams: boolean): string | null {
  if (!/\/\/|\/\.|\\|;/.test(path)) return path;
  const out: string[] = [];
  for (const raw of path.replaceAll("\\", "/").split("/")) {
    const seg = stripParams ? raw.split(";", 1)[0]! : raw;
    if (seg === "" || seg === ".") continue;
    if (seg !== "..") out.push(seg);
    else if (out.pop() === undefined) return null;
  }
  return `/${out.join("/")}${path.endsWith("/") && out.length > 0 ? "/" : ""}`;
}

/** Characters that make a path mean different things to different origins. */
const ODD_PATH = /[%;\\]|\/\/|\/\./;

/**
 * Every path an origin might serve for `pathname`: as received, percent-decoded once and
 * repeatedly (double encoding; ASCII escapes only, so a stray `%ff` cannot switch decoding
 * off), each with and without `;params`, all slash-collapsed, dot-resolved and lower-cased.
 * Origins disagree on these (an origin that leaves `%2F` encoded routes
 * `/v1/files/a%2F..%2Fx` under `/v1/files/`, one that decodes it serves `/v1/x`), so the
 * gate judges a request when any of them is in scope.
 *
 * Null when some reading climbs above the root (`/..%2Fx`, `/%252e%252e/x`, `/..;/x`): the
 * gate refuses those (400 `invalid_request_path`, SPEC section 3). Because of that refusal,
 * every reading of `ORIGIN_URL`'s base path + `pathname` is a reading of the base path
 * followed by one of these, so scope (written in the client's paths) is matched on these.
 */
export function scopePaths(pathname: string): string[] | null {
  if (!ODD_PATH.test(pathname)) return [pathname.toLowerCase()];
  const decoded = [pathname];
  for (let i = 0; i < 4; i++) {
    const next = decodeAscii(decoded[decoded.length - 1]!);
    if (next === decoded[decoded.length - 1]) break;
    decoded.push(next);
  }
  const out = new Set<string>();
  for (const path of decoded) {
    for (const stripParams of [false, true]) {
      const resolved = resolveSegments(path, stripParams);
      if (resolved === null) return null;
      out.add(resolved.toLowerCase());
    }
  }
  return [...out];
}

/** True when some reading of `pathname` (see `scopePaths`) climbs above the root. */
export function climbsAboveRoot(pathname: string): boolean {
  return ODD_PATH.test(pathname) && scopePaths(pathname) === null;
}

/**
 * True when the gate judges this path: for some reading of it (see `scopePaths`) an
 * include prefix matches and no exclude prefix does. Erring towards "in scope" is the
 * safe side: a request judged needlessly still passes when its region is supported. A
 * path that climbs above the root counts as in scope (the gate refuses it before deciding).
 */
export function inScope(policy: CompiledPolicy, pathname: string): boolean {
  if (!ODD_PATH.test(pathname)) return pathInScope(policy, pathname.toLowerCase());
  const paths = scopePaths(pathname);
  return paths === null || paths.some((path) => pathInScope(policy, path));
}

/** Prefixes cover paths on segment boundaries (SPEC section 2; `coversPath` in ./scope.ts). */
function pathInScope(policy: CompiledPolicy, path: string): boolean {
  return includeCovers(policy.include, path) && !anyCovers(policy.exclude, path);
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
  if (facts.asn != null && policy.asnExemptions.size > 0) {
    const until = policy.asnExemptions.get(facts.asn);
    if (until !== undefined && now < until) return `exemptions[asn=${facts.asn}]`;
  }
  if (facts.ip && policy.cidrExemptions.size > 0) {
    return findCidrExemption(policy.cidrExemptions, facts.ip, now)?.rule ?? null;
  }
  return null;
}

type Phase = "block" | "warn" | "observe";
/** How strict a phase is: the stricter side wins (SPEC section 3), the region on a tie. */
const RANK: Record<Phase, number> = { observe: 1, warn: 2, block: 3 };

function phaseOf(window: CompiledWindow, now: number): Phase {
  if (window.blockFrom !== null && now >= window.blockFrom) return "block";
  if (window.warnFrom !== null && now >= window.warnFrom) return "warn";
  return "observe";
}

/**
 * The verdict of a side in `phase`: `code` is the code that matched, `network` the
 * unsupported network when the network side decided. One object literal, no spread: this
 * runs for every restricted request.
 */
function sideVerdict(
  policy: CompiledPolicy,
  phase: Phase,
  code: string,
  country: string | null,
  window: CompiledWindow,
  network?: CompiledNetwork,
): Verdict {
  const rules = network ? network.rules : window.rules;
  let decision: Decision = phase;
  let rule = rules[phase];
  if (phase === "block" && policy.monitor) {
    decision = "monitor";
    rule = `${rule} (mode=monitor)`;
  }
  return network
    ? { decision, region: code, country, rule, window, network }
    : { decision, region: code, country, rule, window };
}

/**
 * Decides one request (SPEC section 3) on two sides, its region and its network: the
 * stricter wins, the region on a tie, and "the code that matched" is the winning side's
 * (`CN`, `UA-43` or `AS16509`). Unknown and Tor traffic that `unknownCountry`/`tor` block
 * is blocked before exemptions, as the table orders it. An exemption relieves a request
 * that some side restricts, whichever side; a request neither side restricts passes anyway.
 *
 * @example decide(policy, { path: "/v1/chat", country: "CN" }, Date.now()).decision // "block"
 */
export function decide(policy: CompiledPolicy, facts: RequestFacts, now: number): Verdict {
  if (!inScope(policy, facts.path)) {
    return { decision: "out_of_scope", region: null, country: facts.country ?? null, rule: "scope" };
  }
  const country = facts.country || null;
  // One Map lookup: only unsupported networks are in it.
  const network =
    facts.asn == null || policy.unsupportedNetworks.size === 0
      ? undefined
      : policy.unsupportedNetworks.get(facts.asn);

  let passing: Verdict | null = null;
  let region = "";
  let window: CompiledWindow | undefined;
  if (country === null || country === "XX") {
    if (policy.unknownBlock) return blockOrMonitor(policy, "XX", country, "unknownCountry=block");
    passing = { decision: "unknown", region: "XX", country, rule: "unknownCountry=allow" };
  } else if (country === "T1") {
    if (policy.torBlock) return blockOrMonitor(policy, "T1", country, "tor=block");
    passing = { decision: "pass", region: "T1", country, rule: "tor=allow" };
  } else {
    const sub = facts.regionCode ? `${country}-${facts.regionCode}` : null;
    if (sub !== null && policy.unsupportedSubdivisions.has(sub)) region = sub;
    else if (!policy.supported.has(country)) region = country;
    else passing = { decision: "pass", region: sub ?? country, country, rule: `supported: ${country}` };
    if (passing === null) {
      window = sub === null ? undefined : policy.windows.get(sub);
      if (window) region = sub!;
      else window = policy.windows.get(country) ?? policy.defaultWindow;
    }
  }
  if (passing !== null && network === undefined) return passing;

  const exempt = exemption(policy, facts, now);
  const regionPhase = window === undefined ? null : phaseOf(window, now);
  const networkPhase = network === undefined ? null : phaseOf(network.window, now);
  if (network !== undefined && (regionPhase === null || RANK[networkPhase!] > RANK[regionPhase])) {
    if (exempt) return { decision: "exempt", region: network.code, country, rule: exempt, network };
    return sideVerdict(policy, networkPhase!, network.code, country, network.window, network);
  }
  if (exempt) return { decision: "exempt", region, country, rule: exempt };
  return sideVerdict(policy, regionPhase!, region, country, window!);
}
