/**
 * What changes between two policies, in an operator's words (`region-gate policy diff` and
 * the dashboard's history pages print the same lines): countries added or removed, dates
 * moved, and the effect per region, computed with the gate's own `decide`:
 * "CN: warn → block on 2024-07-09T00:00:00Z (before: warn, block never)".
 */

import { type CompiledPolicy, compilePolicy } from "./compile";
import { type Decision, decide } from "./decision";
import { ISO_3166_1 } from "./iso-codes";
import type { PolicyDocument } from "./schema";

type Window = { warnFrom?: string | null; blockFrom: string | null } | undefined;

/** `2024-07-09T00:00:00Z` (no milliseconds when there are none). */
export const isoTime = (ms: number) => new Date(ms).toISOString().replace(".000Z", "Z");

const show = (t: string | null | undefined) => (t === undefined ? "absent" : t === null ? "null" : t);

function setDiff(
  label: string,
  before: readonly string[],
  after: readonly string[],
  added: string,
  removed: string,
) {
  const b = new Set(before);
  const a = new Set(after);
  const plus = after.filter((x) => !b.has(x));
  const minus = before.filter((x) => !a.has(x));
  const lines: string[] = [];
  if (plus.length) lines.push(`  + ${label} ${added}: ${plus.join(", ")}`);
  if (minus.length) lines.push(`  - ${label} ${removed}: ${minus.join(", ")}`);
  return lines;
}

function windowLines(code: string, before: Window, after: Window): string[] {
  if (before === undefined && after === undefined) return [];
  const label = code === "default" ? "enforcement.default" : code;
  if (before === undefined) {
    return [
      `  + ${label}: enforcement added (warnFrom ${show(after?.warnFrom)}, blockFrom ${show(after?.blockFrom)})`,
    ];
  }
  if (after === undefined) {
    return [
      `  - ${label}: enforcement removed (was warnFrom ${show(before.warnFrom)}, blockFrom ${show(before.blockFrom)})`,
    ];
  }
  const lines: string[] = [];
  for (const field of ["warnFrom", "blockFrom"] as const) {
    if (show(before[field]) !== show(after[field])) {
      lines.push(`  ~ ${label} ${field}: ${show(before[field])} → ${show(after[field])}`);
    }
  }
  return lines;
}

function scalar(name: string, before: unknown, after: unknown, fallback: string): string[] {
  const b = before ?? fallback;
  const a = after ?? fallback;
  return b === a ? [] : [`  ~ ${name}: ${String(b)} → ${String(a)}`];
}

/** Field-level changes, one line each. */
export function fieldChanges(before: PolicyDocument, after: PolicyDocument): string[] {
  const lines: string[] = [];
  if (before.version !== after.version) lines.push(`  ~ version: ${before.version} → ${after.version}`);
  lines.push(
    ...setDiff("countries", before.supported, after.supported, "now supported", "no longer supported"),
  );
  lines.push(
    ...setDiff(
      "subdivisions",
      before.unsupportedSubdivisions ?? [],
      after.unsupportedSubdivisions ?? [],
      "now unsupported",
      "no longer carved out",
    ),
  );
  lines.push(...windowLines("default", before.enforcement?.default, after.enforcement?.default));
  const regionsBefore = before.enforcement?.regions ?? {};
  const regionsAfter = after.enforcement?.regions ?? {};
  for (const code of [...new Set([...Object.keys(regionsBefore), ...Object.keys(regionsAfter)])].sort()) {
    lines.push(...windowLines(code, regionsBefore[code], regionsAfter[code]));
  }
  lines.push(...scalar("mode", before.mode, after.mode, "enforce"));
  lines.push(...scalar("unknownCountry", before.unknownCountry, after.unknownCountry, "allow"));
  lines.push(...scalar("tor", before.tor, after.tor, "block"));
  lines.push(
    ...setDiff(
      "scope.include",
      before.scope?.include ?? ["/"],
      after.scope?.include ?? ["/"],
      "added",
      "removed",
    ),
  );
  lines.push(
    ...setDiff("scope.exclude", before.scope?.exclude ?? [], after.scope?.exclude ?? [], "added", "removed"),
  );
  lines.push(...networkChanges(before, after));
  const exemption = (e: NonNullable<PolicyDocument["exemptions"]>[number]) =>
    `${e.apiKeyFingerprint ? `key ${e.apiKeyFingerprint}` : e.cidr ? `cidr ${e.cidr}` : `asn ${e.asn}`}${e.until ? ` until ${e.until}` : ""}`;
  lines.push(
    ...setDiff(
      "exemptions",
      (before.exemptions ?? []).map(exemption),
      (after.exemptions ?? []).map(exemption),
      "added",
      "removed",
    ),
  );
  lines.push(
    ...setDiff(
      "identity.headers",
      before.identity?.headers ?? [],
      after.identity?.headers ?? [],
      "added",
      "removed",
    ),
  );
  lines.push(...scalar("error.message", before.error?.message, after.error?.message, "(default)"));
  lines.push(
    ...scalar("error.networkMessage", before.error?.networkMessage, after.error?.networkMessage, "(default)"),
  );
  lines.push(...scalar("error.docsUrl", before.error?.docsUrl, after.error?.docsUrl, "(none)"));
  return lines;
}

/** Classes, unsupported networks and `enforcement.networks`, one line per change. */
function networkChanges(before: PolicyDocument, after: PolicyDocument): string[] {
  const lines: string[] = [];
  const classesBefore = before.networks?.classes ?? {};
  const classesAfter = after.networks?.classes ?? {};
  const as = (list: readonly number[] | undefined) => (list ?? []).map((n) => `AS${n}`);
  for (const name of [...new Set([...Object.keys(classesBefore), ...Object.keys(classesAfter)])].sort()) {
    const b = classesBefore[name];
    const a = classesAfter[name];
    if (b === undefined) lines.push(`  + class ${name} added: ${as(a).join(", ") || "(empty)"}`);
    else if (a === undefined) lines.push(`  - class ${name} removed (was ${as(b).join(", ") || "empty"})`);
    else lines.push(...setDiff(`class ${name}`, as(b), as(a), "gains", "loses"));
  }
  lines.push(
    ...setDiff(
      "networks",
      before.networks?.unsupported ?? [],
      after.networks?.unsupported ?? [],
      "now unsupported",
      "no longer unsupported",
    ),
  );
  const windowsBefore = before.enforcement?.networks ?? {};
  const windowsAfter = after.enforcement?.networks ?? {};
  for (const key of [...new Set([...Object.keys(windowsBefore), ...Object.keys(windowsAfter)])].sort()) {
    lines.push(...windowLines(`enforcement.networks.${key}`, windowsBefore[key], windowsAfter[key]));
  }
  return lines;
}

/** Instants at which some window of either policy starts, after `now`. */
function breakpoints(policies: CompiledPolicy[], now: number): number[] {
  const times = new Set<number>();
  for (const p of policies) {
    for (const w of [p.defaultWindow, ...p.windows.values(), ...p.networkWindows.values()]) {
      for (const t of [w.warnFrom, w.blockFrom])
        if (t !== null && Number.isFinite(t) && t > now) times.add(t);
    }
  }
  return [...times].sort((a, b) => a - b);
}

/** "warn → block on 2024-07-09T00:00:00Z": the decision now, then each later change. */
function timeline(
  policy: CompiledPolicy,
  country: string,
  regionCode: string | null,
  now: number,
  at: number[],
): string {
  const path = policy.defaultPath;
  const decisionAt = (t: number): Decision =>
    decide(policy, { path, country: country === "XX" ? null : country, regionCode }, t).decision;
  let current = decisionAt(now);
  let text: string = current;
  for (const t of at) {
    const next = decisionAt(t);
    if (next !== current) text += ` → ${next} on ${isoTime(t)}`;
    current = next;
  }
  return text;
}

/** A country unsupported in both policies and without its own enforcement entry: stands for the default. */
function defaultStandIn(before: PolicyDocument, after: PolicyDocument): string | null {
  const taken = new Set([
    ...before.supported,
    ...after.supported,
    ...Object.keys(before.enforcement?.regions ?? {}),
    ...Object.keys(after.enforcement?.regions ?? {}),
  ]);
  return ISO_3166_1.split(",").find((c) => !taken.has(c)) ?? null;
}

/**
 * Per-region effect from `now` on: every region mentioned by either policy (plus unknown,
 * Tor and the countries that fall back to the default window) whose schedule differs.
 */
export function effects(before: PolicyDocument, after: PolicyDocument, now: number): string[] {
  const old = compilePolicy(before);
  const neu = compilePolicy(after);
  const at = breakpoints([old, neu], now);
  const codes = new Set<string>([
    ...before.supported,
    ...after.supported,
    ...(before.unsupportedSubdivisions ?? []),
    ...(after.unsupportedSubdivisions ?? []),
    ...Object.keys(before.enforcement?.regions ?? {}),
    ...Object.keys(after.enforcement?.regions ?? {}),
  ]);
  const lines: string[] = [];
  const compare = (label: string, country: string, regionCode: string | null) => {
    const was = timeline(old, country, regionCode, now, at);
    const will = timeline(neu, country, regionCode, now, at);
    if (was !== will) lines.push(`  ${label}: ${will}   (before: ${was})`);
  };
  for (const code of [...codes].sort()) {
    const [country, sub] = code.split("-") as [string, string | undefined];
    compare(code, country, sub ?? null);
  }
  const standIn = defaultStandIn(before, after);
  if (standIn) compare(`other unsupported countries (e.g. ${standIn})`, standIn, null);
  compare("XX (unknown country)", "XX", null);
  compare("T1 (Tor)", "T1", null);
  lines.push(...networkEffects(old, neu, now, at));
  return lines;
}

/** A network's side alone (SPEC section 3): `pass` when not unsupported, else its window's phase. */
function networkTimeline(policy: CompiledPolicy, asn: number, now: number, at: number[]): string {
  const phase = (t: number): string => {
    const w = policy.unsupportedNetworks.get(asn)?.window;
    if (w === undefined) return "pass";
    if (w.blockFrom !== null && t >= w.blockFrom) return policy.monitor ? "monitor" : "block";
    return w.warnFrom !== null && t >= w.warnFrom ? "warn" : "observe";
  };
  let current = phase(now);
  let text = current;
  for (const t of at) {
    const next = phase(t);
    if (next !== current) text += ` → ${next} on ${isoTime(t)}`;
    current = next;
  }
  return text;
}

/**
 * The network side's effect, grouped: networks whose schedule changes the same way share
 * a line, named by their class ("vpn: AS9009, AS212238: pass → warn …").
 */
function networkEffects(old: CompiledPolicy, neu: CompiledPolicy, now: number, at: number[]): string[] {
  const asns = [...new Set([...old.unsupportedNetworks.keys(), ...neu.unsupportedNetworks.keys()])].sort(
    (a, b) => a - b,
  );
  const groups = new Map<string, { label: string; asns: number[] }>();
  for (const asn of asns) {
    const was = networkTimeline(old, asn, now, at);
    const will = networkTimeline(neu, asn, now, at);
    if (was === will) continue;
    const cls = neu.asnClass.get(asn) ?? old.asnClass.get(asn);
    const key = `${cls ?? ""}\n${was}\n${will}`;
    const group = groups.get(key) ?? { label: `${will}   (before: ${was})`, asns: [] };
    group.asns.push(asn);
    groups.set(key, group);
  }
  return [...groups.entries()].map(([key, g]) => {
    const cls = key.split("\n", 1)[0];
    const shown = g.asns.slice(0, 5).map((n) => `AS${n}`);
    const more = g.asns.length > 5 ? ` and ${g.asns.length - 5} more` : "";
    return `  ${cls ? `${cls}: ` : ""}${shown.join(", ")}${more}: ${g.label}`;
  });
}

/** The whole diff as printable lines; `before: null` when nothing is active yet. */
export function diffPolicies(before: PolicyDocument | null, after: PolicyDocument, now: number): string[] {
  if (before === null) {
    return [`No active policy yet: ${after.version} would be the first one.`];
  }
  const changes = fieldChanges(before, after);
  if (changes.length === 0)
    return [`No changes: the active policy is already ${after.version} with the same rules.`];
  const lines = [`Changes (${before.version} → ${after.version}):`, ...changes];
  const effect = effects(before, after, now);
  lines.push(
    "",
    `Effect, from ${isoTime(now)}:`,
    ...(effect.length ? effect : ["  none: every region and network keeps its schedule"]),
  );
  return lines;
}
