/**
 * What a notice says about one code: its name in words (`China`, `the Crimea region of
 * Ukraine (UA-43)`, `network AS60068`) and what the active policy does next there, judged
 * as the gate would now. Pure, shared by notices and the customer's own view.
 */
import type { CompiledPolicy } from "../../policy/compile";
import { decide, type RequestFacts } from "../../policy/decision";

/** What the active policy does next for a code, for a notice. */
export interface NextStep {
  /**
   * `warn` or `block` when that step lies ahead; `blocked` when requests are refused now;
   * `none` when no enforcement date is set; `supported` when the active policy no longer
   * restricts the code.
   */
  action: "warn" | "block" | "blocked" | "none" | "supported";
  /** RFC 3339 instant of the step (for `blocked`: since when), null when there is none. */
  at: string | null;
  /** The upcoming block date after a `warn` step, when set. */
  blockAt: string | null;
  /** `warn from 2024-06-25, blocked from 2024-07-09`, `blocked since 2024-07-09`, `no enforcement date set`. */
  text: string;
  /** True in `monitor` mode: blocking phases are only recorded, requests still pass. */
  monitorOnly: boolean;
}

const iso = (ms: number) => new Date(ms).toISOString();

/** `2024-07-09`, or `2024-07-09 14:30 UTC` off midnight. */
export function shortInstant(ms: number): string {
  const s = iso(ms);
  return s.slice(11, 19) === "00:00:00" ? s.slice(0, 10) : `${s.slice(0, 10)} ${s.slice(11, 16)} UTC`;
}

const NETWORK_CODE = /^AS(\d{1,10})$/;

/** The ASN of a network code (`AS60068` → 60068), or null for a region code. */
export function asnOf(code: string): number | null {
  const m = NETWORK_CODE.exec(code);
  return m ? Number(m[1]) : null;
}

/** Facts that make `decide` judge exactly one code: a region, or a network seen from a supported country. */
function codeFacts(policy: CompiledPolicy, code: string): RequestFacts {
  const path = policy.defaultPath;
  const asn = asnOf(code);
  if (asn !== null) {
    // The network side alone: from a supported country, through that network.
    const facts = { path, country: [...policy.supported][0] ?? null, regionCode: null, asn };
    return facts;
  }
  const dash = code.indexOf("-");
  return {
    path,
    country: dash < 0 ? code : code.slice(0, dash),
    regionCode: dash < 0 ? null : code.slice(dash + 1),
  };
}

/**
 * What the active policy does next for `code` (a code the ledger recorded: `CN`, `UA-43`,
 * `T1`, `XX`, `AS60068`), judged as the gate would now, without exemptions.
 *
 * @example nextStep(policy, "CN", Date.parse("2024-07-01T00:00:00Z")).text // "blocked from 2024-07-09"
 */
export function nextStep(policy: CompiledPolicy, code: string, now: number): NextStep {
  const v = decide(policy, codeFacts(policy, code), now);
  const monitorOnly = policy.monitor;
  const suffix = monitorOnly ? " (monitor mode: requests still pass)" : "";
  const w = v.window;
  if (!w) {
    if (v.decision === "block" || v.decision === "monitor")
      return { action: "blocked", at: null, blockAt: null, text: `blocked${suffix}`, monitorOnly };
    return { action: "supported", at: null, blockAt: null, text: "not restricted", monitorOnly };
  }
  const { warnFrom, blockFrom } = w;
  if (blockFrom !== null && now >= blockFrom) {
    if (!Number.isFinite(blockFrom))
      return {
        action: "blocked",
        at: null,
        blockAt: null,
        text: `blocked (no enforcement date set)${suffix}`,
        monitorOnly,
      };
    return {
      action: "blocked",
      at: iso(blockFrom),
      blockAt: null,
      text: `blocked since ${shortInstant(blockFrom)}${suffix}`,
      monitorOnly,
    };
  }
  const blockText = blockFrom === null ? "" : `blocked from ${shortInstant(blockFrom)}${suffix}`;
  if (warnFrom !== null && now < warnFrom) {
    return {
      action: "warn",
      at: iso(warnFrom),
      blockAt: blockFrom === null ? null : iso(blockFrom),
      text: `warn from ${shortInstant(warnFrom)}${blockText ? `, ${blockText}` : ", no block date set"}`,
      monitorOnly,
    };
  }
  if (blockFrom === null)
    return { action: "none", at: null, blockAt: null, text: "no enforcement date set", monitorOnly };
  return { action: "block", at: iso(blockFrom), blockAt: null, text: blockText, monitorOnly };
}

let regionNames: Intl.DisplayNames | null | undefined;

/** Names of the subdivisions policies restrict most, so a notice can say where in words. */
const SUBDIVISIONS: Record<string, string> = {
  "UA-43": "the Crimea region of Ukraine",
  "UA-40": "the city of Sevastopol, Ukraine",
  "UA-14": "the Donetsk region of Ukraine",
  "UA-09": "the Luhansk region of Ukraine",
  "UA-23": "the Zaporizhzhia region of Ukraine",
  "UA-65": "the Kherson region of Ukraine",
};

/**
 * `China`, `the Crimea region of Ukraine (UA-43)`, `Ukraine (region UA-71)`, `the Tor
 * network`, `an unknown location`, `network AS60068`; the code when no name is known.
 */
export function regionName(code: string): string {
  if (code === "T1") return "the Tor network";
  if (code === "XX") return "an unknown location";
  if (asnOf(code) !== null) return `network ${code}`;
  const known = SUBDIVISIONS[code];
  if (known) return `${known} (${code})`;
  const country = code.slice(0, 2);
  if (regionNames === undefined) {
    try {
      regionNames = new Intl.DisplayNames(["en"], { type: "region" });
    } catch {
      regionNames = null;
    }
  }
  let name: string | undefined;
  try {
    name = regionNames?.of(country);
  } catch {
    name = undefined;
  }
  if (!name || name === country) return code;
  return code.length > 2 ? `${name} (region ${code})` : name;
}
