/**
 * Turns a validated policy into lookup structures once per KV read, so that each
 * request costs a few Set/Map lookups and number comparisons.
 */
import { ERRORS, errorBody } from "../platform/errors";
import { asnOfCode } from "./asn";
import { type Cidr, parseCidr } from "./cidr";
import { buildCidrIndex, type CidrIndex } from "./cidr-index";
import type { PolicyDocument } from "./schema";
import { judgedPath } from "./scope";

export interface CompiledWindow {
  /** Epoch ms, or null for "no warn phase". */
  warnFrom: number | null;
  /** Epoch ms, or null for "never block". */
  blockFrom: number | null;
  /** Where the window came from, e.g. `enforcement.regions.CN`. */
  source: string;
  /** The `rule` text of each phase, built once here rather than per request. */
  rules: { block: string; warn: string; observe: string };
}

/** A network judged like an unsupported region (SPEC section 3): listed directly or through its class. */
export interface CompiledNetwork {
  asn: number;
  /** `AS16509`: "the code that matched" when this network's side decides. */
  code: string;
  /** Its class in `networks.classes`, when it has one. */
  class: string | null;
  /** Its `AS<number>` entry, else its class's, else the default. */
  window: CompiledWindow;
  /** The window's rule texts, naming the network: `AS9009 (class vpn): enforcement.networks.vpn.blockFrom=…`. */
  rules: CompiledWindow["rules"];
}

export interface CompiledPolicy {
  doc: PolicyDocument;
  version: string;
  monitor: boolean;
  supported: ReadonlySet<string>;
  unsupportedSubdivisions: ReadonlySet<string>;
  windows: ReadonlyMap<string, CompiledWindow>;
  defaultWindow: CompiledWindow;
  unknownBlock: boolean;
  torBlock: boolean;
  include: readonly string[];
  /**
   * The path a case without one is judged at (explain, the self-check, diffs, notices, the
   * map): the first include prefix, as written, that no exclude prefix covers (`judgedPath`).
   */
  defaultPath: string;
  exclude: readonly string[];
  keyExemptions: ReadonlyMap<string, number>;
  /** CIDR exemptions as a lookup table (see ./cidr-index.ts): one search per request. */
  cidrExemptions: CidrIndex;
  /** Network exemptions: ASN → until (epoch ms, +Infinity without `until`). */
  asnExemptions: ReadonlyMap<number, number>;
  /** ASN → its class name, from `networks.classes`. */
  asnClass: ReadonlyMap<number, string>;
  /** Every unsupported network with its window, so the network side is one Map lookup. */
  unsupportedNetworks: ReadonlyMap<number, CompiledNetwork>;
  /** `enforcement.networks` entries by key (a class name or `AS<number>`). */
  networkWindows: ReadonlyMap<string, CompiledWindow>;
  identityHeaders: readonly string[];
  errorMessage: string;
  networkMessage: string;
  docsUrl: string | null;
  /** The 403 body, serialised once: SPEC section 4 fixes it byte for byte. */
  blockBody: string;
  /** The 403 body when the network side decided (`unsupported_network`). */
  networkBlockBody: string;
}

const instant = (t: string | null | undefined): number | null => (t == null ? null : Date.parse(t));

const iso = (ms: number) => (Number.isFinite(ms) ? new Date(ms).toISOString() : "always");

/** A window with its `rule` texts built once here rather than per request. */
export function windowOf(warnFrom: number | null, blockFrom: number | null, source: string): CompiledWindow {
  const until = warnFrom ?? blockFrom;
  return {
    warnFrom,
    blockFrom,
    source,
    rules: {
      block: blockFrom === null ? "" : `${source}.blockFrom=${iso(blockFrom)}`,
      warn: warnFrom === null ? "" : `${source}.warnFrom=${iso(warnFrom)}`,
      observe: `${source}: before ${until === null ? "any enforcement (blockFrom=null)" : iso(until)}`,
    },
  };
}

function compileWindow(
  w: { warnFrom?: string | null; blockFrom: string | null },
  source: string,
): CompiledWindow {
  return windowOf(instant(w.warnFrom), instant(w.blockFrom), source);
}

/**
 * RFC 3339 text of a window bound, as explain, the dashboard and the self-check show it:
 * null = no bound (never), `"always"` = since forever (no enforcement section).
 */
export function boundText(ms: number | null): string | null {
  if (ms === null || ms === Number.POSITIVE_INFINITY) return null;
  return ms === Number.NEGATIVE_INFINITY ? "always" : new Date(ms).toISOString();
}

/**
 * The network side's index: every ASN of `networks.unsupported` (its own `AS<number>` or
 * through its class) with the window SPEC section 2 gives it: its `AS<number>` entry, then
 * its class's, then the default.
 */
function compileNetworks(doc: PolicyDocument, defaultWindow: CompiledWindow) {
  const asnClass = new Map<number, string>();
  const members = new Map<string, readonly number[]>();
  for (const [name, list] of Object.entries(doc.networks?.classes ?? {})) {
    members.set(name, list);
    for (const asn of list) asnClass.set(asn, name);
  }
  const networkWindows = new Map<string, CompiledWindow>();
  for (const [key, w] of Object.entries(doc.enforcement?.networks ?? {})) {
    networkWindows.set(key, compileWindow(w, `enforcement.networks.${key}`));
  }
  const unsupportedNetworks = new Map<number, CompiledNetwork>();
  for (const ref of doc.networks?.unsupported ?? []) {
    const listed = asnOfCode(ref);
    for (const asn of listed === null ? (members.get(ref) ?? []) : [listed]) {
      const code = `AS${asn}`;
      const cls = asnClass.get(asn) ?? null;
      const window =
        networkWindows.get(code) ?? (cls === null ? undefined : networkWindows.get(cls)) ?? defaultWindow;
      const named = `${code}${cls === null ? "" : ` (class ${cls})`}: `;
      const rules = {
        block: named + window.rules.block,
        warn: named + window.rules.warn,
        observe: named + window.rules.observe,
      };
      unsupportedNetworks.set(asn, { asn, code, class: cls, window, rules });
    }
  }
  return { asnClass, unsupportedNetworks, networkWindows };
}

/**
 * Compiles a validated policy. Scope prefixes are lower-cased because the gate judges
 * every reading of a path lower-cased too (`scopePaths` in ./decision.ts).
 */
export function compilePolicy(doc: PolicyDocument): CompiledPolicy {
  const windows = new Map<string, CompiledWindow>();
  for (const [code, w] of Object.entries(doc.enforcement?.regions ?? {})) {
    windows.set(code, compileWindow(w, `enforcement.regions.${code}`));
  }
  const defaultWindow = doc.enforcement?.default
    ? compileWindow(doc.enforcement.default, "enforcement.default")
    : // No enforcement section (or no default): unsupported regions are blocked now.
      windowOf(null, Number.NEGATIVE_INFINITY, "enforcement (absent: block now)");
  const errorMessage = doc.error?.message ?? ERRORS.unsupported_country_region_territory.message;
  const networkMessage = doc.error?.networkMessage ?? ERRORS.unsupported_network.message;
  return {
    doc,
    version: doc.version,
    monitor: doc.mode === "monitor",
    supported: new Set(doc.supported),
    unsupportedSubdivisions: new Set(doc.unsupportedSubdivisions ?? []),
    windows,
    defaultWindow,
    unknownBlock: doc.unknownCountry === "block",
    torBlock: (doc.tor ?? "block") === "block",
    include: (doc.scope?.include ?? ["/"]).map((p) => p.toLowerCase()),
    defaultPath: judgedPath(
      doc.scope?.include ?? ["/"],
      (doc.scope?.exclude ?? []).map((p) => p.toLowerCase()),
    ),
    exclude: (doc.scope?.exclude ?? []).map((p) => p.toLowerCase()),
    keyExemptions: new Map(
      (doc.exemptions ?? [])
        .filter((e) => e.apiKeyFingerprint)
        .map((e) => [e.apiKeyFingerprint!, instant(e.until) ?? Number.POSITIVE_INFINITY]),
    ),
    cidrExemptions: buildCidrIndex(
      (doc.exemptions ?? [])
        .filter((e) => e.cidr)
        .map((e) => ({
          cidr: parseCidr(e.cidr!) as Cidr,
          until: instant(e.until) ?? Number.POSITIVE_INFINITY,
          text: e.cidr!,
          rule: `exemptions[cidr=${e.cidr}]`,
        })),
    ),
    asnExemptions: new Map(
      (doc.exemptions ?? [])
        .filter((e) => e.asn !== undefined)
        .map((e) => [e.asn!, instant(e.until) ?? Number.POSITIVE_INFINITY]),
    ),
    ...compileNetworks(doc, defaultWindow),
    identityHeaders: doc.identity?.headers ?? [],
    errorMessage,
    networkMessage,
    docsUrl: doc.error?.docsUrl ?? null,
    blockBody: errorBody("unsupported_country_region_territory", errorMessage),
    networkBlockBody: errorBody("unsupported_network", networkMessage),
  };
}
