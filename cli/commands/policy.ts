/**
 * `region-gate policy validate|push|show|diff|history|rollback`.
 */

import { diffPolicies, isoTime } from "../../src/policy/diff";
import { parseInstant } from "../../src/policy/explain";
import { parsePolicy } from "../../src/policy/parse";
import type { PolicyDocument } from "../../src/policy/schema";
import { canonicalPolicy, documentSha } from "../../src/store/etag";
import { activeAt } from "../../src/store/history";
import { type PolicyBackend, policyBackend, STORE_OPTIONS, storeHelp, writeFailed } from "../backend";
import { command } from "../command";
import { CliError, EXIT, usage } from "../errors";
import { type CliIO, confirmOrStop, loadPolicyFile, problemLines, readInputFile } from "../io";

const AT_OPTION = { at: { type: "string" } } as const;
const atHelp = "  --at TIME            compute the effect from TIME instead of now (RFC 3339 or YYYY-MM-DD)";

function effectTime(at: string | undefined): number {
  if (at === undefined) return Date.now();
  const t = parseInstant(at);
  if (t === null)
    throw usage(
      `--at ${JSON.stringify(at)} is not a time; use RFC 3339 (2024-07-09T10:00:00Z) or a day (2024-07-09)`,
    );
  return t;
}

/** The active document, parsed; a stored document that no longer validates is shown as absent with a warning. */
async function activeDocument(io: CliIO, backend: PolicyBackend) {
  const active = await backend.active();
  if (active === null) return { active, doc: null };
  const r = parsePolicy(active.content);
  const doc: PolicyDocument | null = r.ok ? r.policy : null;
  if (doc === null)
    io.err(
      `warning: the active policy in ${backend.where} is not a valid document; the diff shows everything as new\n`,
    );
  return { active, doc };
}

export const validate = command({
  name: "policy validate",
  brief: "check a policy file (exit 1 with every problem)",
  summary:
    "Checks a policy file against schema 1 and prints every problem with its JSON path (exit 1 if any).",
  args: ["FILE"],
  options: { json: { type: "boolean" } },
  help: "Options:\n  --json               print {ok, version} or {ok, errors} as JSON (the admin API's shape)",
  async run(io, values, [file]) {
    if (values.json) {
      const r = parsePolicy(await readInputFile(io, file!));
      io.out(
        `${JSON.stringify(r.ok ? { ok: true, version: r.policy.version } : { ok: false, errors: r.errors }, null, 2)}\n`,
      );
      return r.ok ? EXIT.ok : EXIT.invalid;
    }
    const doc = await loadPolicyFile(io, file!);
    const carved = doc.unsupportedSubdivisions?.length ?? 0;
    io.out(
      `${file}: valid policy ${doc.version} (${doc.supported.length} supported countries, ${carved} unsupported subdivisions, mode ${doc.mode ?? "enforce"})\n`,
    );
    return EXIT.ok;
  },
});

export const push = command({
  name: "policy push",
  brief: "validate, diff, confirm, make active, keep history",
  summary:
    "Validates FILE, shows the diff against the active policy, asks for confirmation, then makes it active and keeps it in history. Refused if the active policy changes meanwhile, or if FILE reuses a stored version with other content.",
  args: ["FILE"],
  options: { ...STORE_OPTIONS, ...AT_OPTION, yes: { type: "boolean", short: "y" } },
  help: `Options:\n  -y, --yes            do not ask for confirmation (automation)\n${atHelp}\n\n${storeHelp}`,
  async run(io, values, [file]) {
    const doc = await loadPolicyFile(io, file!);
    const now = effectTime(values.at);
    const backend = policyBackend(io, values);
    const { active, doc: before } = await activeDocument(io, backend);
    io.out(`Policy ${doc.version} from ${file} → ${backend.where}\n\n`);
    if (active && (await documentSha(canonicalPolicy(doc))) === (await documentSha(active.content))) {
      io.out(`Nothing to push: ${doc.version} is already the active policy.\n`);
      return EXIT.ok;
    }
    io.out(`${diffPolicies(before, doc, now).join("\n")}\n\n`);
    await confirmOrStop(io, values.yes === true, `Make ${doc.version} the active policy?`);
    const result = await backend.push(doc, active ? { ifMatch: active.etag } : { ifNoneMatch: "*" });
    if (!result.ok) throw writeFailed(result);
    io.out(
      result.changed
        ? `Pushed ${result.version} (sha256 ${result.sha256.slice(0, 12)}). Gates pick it up within POLICY_CACHE_SECONDS (30 s by default).\n`
        : `Nothing changed: ${result.version} was already active.\n`,
    );
    return EXIT.ok;
  },
});

export const show = command({
  name: "policy show",
  brief: "print the active policy",
  summary: "Prints the active policy exactly as stored (stdout), with its version and activation on stderr.",
  args: [],
  options: { ...STORE_OPTIONS },
  help: storeHelp,
  async run(io, values) {
    const backend = policyBackend(io, values);
    const active = await backend.active();
    if (active === null) {
      throw new CliError(
        EXIT.conflict,
        `no policy is active in ${backend.where}; push one with \`region-gate policy push FILE\``,
      );
    }
    const m = active.meta;
    io.err(
      `# ${backend.where}: ${m ? `version ${m.version}, active since ${m.at}${m.by ? ` (${m.via} by ${m.by})` : ""}, ` : ""}ETag ${active.etag}\n`,
    );
    io.out(active.content.endsWith("\n") ? active.content : `${active.content}\n`);
    return EXIT.ok;
  },
});

export const diff = command({
  name: "policy diff",
  brief: "what a file would change, and the effect per region",
  summary:
    "Shows what FILE would change against the active policy (or --base FILE): countries added or removed, dates moved, and the effect per region.",
  args: ["FILE"],
  options: { ...STORE_OPTIONS, ...AT_OPTION, base: { type: "string" } },
  help: `Options:\n  --base FILE          compare with this file instead of the active policy (no store needed)\n${atHelp}\n\n${storeHelp}`,
  async run(io, values, [file]) {
    const doc = await loadPolicyFile(io, file!);
    const now = effectTime(values.at);
    const before = values.base
      ? await loadPolicyFile(io, values.base)
      : (await activeDocument(io, policyBackend(io, values))).doc;
    io.out(`${diffPolicies(before, doc, now).join("\n")}\n`);
    return EXIT.ok;
  },
});

export const history = command({
  name: "policy history",
  brief: "stored versions, newest first; --at TIME: what was active",
  summary:
    "Lists the stored versions, most recently activated first, with when, by whom and how each became active.",
  args: [],
  options: { ...STORE_OPTIONS, at: { type: "string" }, json: { type: "boolean" } },
  help: `Options:\n  --at TIME            also say which version was active at TIME (e.g. 2024-07-09T10:00:00Z)\n  --json               print the history as JSON (the admin API's shape)\n\n${storeHelp}`,
  async run(io, values) {
    const at = values.at === undefined ? null : effectTime(values.at);
    const view = await policyBackend(io, values).history();
    const then = at === null ? undefined : activeAt(view, new Date(at));
    if (values.json) {
      io.out(
        `${JSON.stringify(at === null ? view : { ...view, at: new Date(at).toISOString(), activeAt: then }, null, 2)}\n`,
      );
      return EXIT.ok;
    }
    if (view.versions.length === 0) {
      io.out("No stored versions yet; `region-gate policy push FILE` stores the first.\n");
      return EXIT.ok;
    }
    const rows = view.versions.map((v) => {
      const last = v.activations.at(-1);
      return [
        v.active ? "*" : " ",
        v.version,
        last ? last.at : "(not recorded)",
        last?.by ?? "",
        last?.via ?? "",
        v.sha256.slice(0, 12),
        String(v.activations.length),
      ];
    });
    io.out(table(["", "VERSION", "LAST ACTIVATED (UTC)", "BY", "VIA", "SHA256", "TIMES"], rows));
    if (at !== null) {
      io.out(
        `\nAt ${isoTime(at)} the active policy was ${then ?? "none recorded (before the first recorded activation)"}.\n`,
      );
    }
    return EXIT.ok;
  },
});

export const rollback = command({
  name: "policy rollback",
  brief: "make a stored version active again, byte for byte",
  summary:
    "Makes a stored VERSION active again, byte for byte, after showing the diff and asking for confirmation.",
  args: ["VERSION"],
  options: { ...STORE_OPTIONS, ...AT_OPTION, yes: { type: "boolean", short: "y" } },
  help: `Options:\n  -y, --yes            do not ask for confirmation (automation)\n${atHelp}\n\n${storeHelp}`,
  async run(io, values, [version]) {
    const now = effectTime(values.at);
    const backend = policyBackend(io, values);
    const [content, current] = await Promise.all([backend.stored(version!), activeDocument(io, backend)]);
    if (content === null) {
      throw new CliError(
        EXIT.conflict,
        `no stored policy has version ${JSON.stringify(version)} in ${backend.where}; \`region-gate policy history\` lists the stored versions`,
      );
    }
    const target = parsePolicy(content);
    if (!target.ok) {
      throw new CliError(
        EXIT.invalid,
        `stored version ${version} no longer validates; push a corrected document with a new version instead:`,
        problemLines(target.errors),
      );
    }
    const { active, doc: before } = current;
    if (active && (await documentSha(active.content)) === (await documentSha(content))) {
      io.out(`Nothing to do: ${version} is already the active policy.\n`);
      return EXIT.ok;
    }
    io.out(
      `Roll back to ${version} in ${backend.where}\n\n${diffPolicies(before, target.policy, now).join("\n")}\n\n`,
    );
    await confirmOrStop(io, values.yes === true, `Make ${version} the active policy again?`);
    const result = await backend.rollback(version!, active ? { ifMatch: active.etag } : null);
    if (!result.ok) throw writeFailed(result);
    io.out(`Rolled back: ${version} is active again (sha256 ${result.sha256.slice(0, 12)}).\n`);
    return EXIT.ok;
  },
});

/** A left-aligned text table. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join("  ")
      .trimEnd();
  return `${[line(header), ...rows.map(line)].join("\n")}\n`;
}
