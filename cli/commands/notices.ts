/**
 * `region-gate exposure notices`: one notice per customer from the gate's
 * `/exposure/notices`, following its pages. Printed as Markdown, CSV or JSON, or with
 * `--out DIR` written as one Markdown file per customer plus `index.csv` for a
 * mail-merge tool. Rendering is the worker's own code (src/control/notices/notice-render.ts), so
 * the files say exactly what the route's `format=md` says.
 */
import { createHash } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { csvField, identityText } from "../../src/control/ledger/csv";
import {
  DEFAULT_TEMPLATE,
  type NoticeContext,
  noticesCsv,
  PLACEHOLDERS,
  renderNotice,
  unknownPlaceholders,
} from "../../src/control/notices/notice-render";
import type { Notice } from "../../src/control/notices/notices";
import { NOTICES } from "../answers";
import { adminClient } from "../backend";
import { command } from "../command";
import { CliError, EXIT, usage } from "../errors";
import { type CliIO, readInputFile } from "../io";

interface NoticesPage {
  meta: NoticeContext & { identityNote: string };
  notices: Notice[];
  next: string | null;
}

/**
 * File name of a customer's notice: the fingerprint, plus a short hash of the identity
 * when there is one, so it stays the same from one run to the next.
 */
export function noticeFileName(n: Notice): string {
  const fp = n.fingerprint.replace(/[^A-Za-z0-9_-]/g, "_");
  const id = JSON.stringify(n.identity);
  if (id === "{}") return `${fp}.md`;
  return `${fp}-${createHash("sha256").update(id).digest("hex").slice(0, 8)}.md`;
}

/** `index.csv`: one line per notice file; identity columns say the values are claimed. */
export function indexCsv(notices: readonly { file: string; notice: Notice }[]): string {
  const names = [...new Set(notices.flatMap(({ notice }) => Object.keys(notice.identity)))].sort();
  const header = [
    "file",
    "fingerprint",
    "claimed_identity",
    ...names.map((h) => `claimed:${h}`),
    "regions",
    "first_day",
    "last_day",
    "requests",
    "next_date",
    "next",
  ];
  const line = (fields: (string | number)[]) => `${fields.map(csvField).join(",")}\r\n`;
  let out = line(header);
  for (const { file, notice: n } of notices) {
    out += line([
      file,
      n.fingerprint,
      identityText(n.identity),
      ...names.map((h) => n.identity[h] ?? ""),
      n.regions.map((r) => r.region).join(";"),
      n.firstDay,
      n.lastDay,
      n.requests,
      n.nextDate ?? "",
      n.regions.map((r) => `${r.region}: ${r.next.text}`).join("; "),
    ]);
  }
  return out;
}

async function loadTemplate(io: CliIO, file: string | undefined): Promise<string> {
  if (file === undefined) return DEFAULT_TEMPLATE;
  const text = await readInputFile(io, file).catch(() => {
    throw usage(`cannot read --template ${file}; give a Markdown file with {{placeholders}}`);
  });
  const bad = unknownPlaceholders(text);
  if (bad.length > 0) {
    throw usage(
      `--template ${file} uses unknown placeholder${bad.length === 1 ? "" : "s"} ${bad.map((b) => `{{${b}}}`).join(", ")}; known: ${Object.keys(
        PLACEHOLDERS,
      )
        .map((p) => `{{${p}}}`)
        .join(" ")} and {{identity.<header>}}`,
    );
  }
  return text;
}

export const notices = command({
  name: "exposure notices",
  brief: "one notice per customer (md, csv, json; --out DIR for mail merge)",
  summary:
    "Notices to mail before an enforcement date: one per customer (key fingerprint + claimed identity), every unsupported region it sent traffic from, with first and last day, requests per decision and what the active policy does next there.",
  args: [],
  options: {
    from: { type: "string" },
    to: { type: "string" },
    region: { type: "string" },
    format: { type: "string" },
    out: { type: "string" },
    template: { type: "string" },
    provider: { type: "string" },
    limit: { type: "string" },
    url: { type: "string" },
    token: { type: "string" },
  },
  help: `Options:
  --from DAY, --to DAY UTC days, inclusive (YYYY-MM-DD; default: everything)
  --region CODE        only this region (CN, UA-43); a notice then lists only it
  --format FMT         md (default), csv (one line per customer and region) or json
  --out DIR            write DIR/<fingerprint>[-<identity hash>].md per customer and
                       DIR/index.csv (file, fingerprint, claimed identity values, regions,
                       next date) for a mail-merge tool
  --template FILE      Markdown with {{placeholders}} instead of the default wording; see
                       docs/operations.md for the list ({{provider}} {{customer}} {{regions}}
                       {{enforcement}} {{table}} {{next_date}} {{identity.<header>}} ...)
  --provider NAME      who mails it: "a region that NAME does not currently support"
  --limit N            notices per page read from the gate (default 100, at most 1000)
  --url URL            the gate's base URL (env REGION_GATE_URL)
  --token TOKEN        its ADMIN_TOKEN (env REGION_GATE_TOKEN)

Identity values are what clients sent in identity headers: claims, not verified facts.
Progress goes to stderr; the notices to stdout (or to --out).`,
  async run(io, values) {
    const format = values.format ?? "md";
    if (!["md", "csv", "json"].includes(format))
      throw usage(`--format ${JSON.stringify(format)}: use md, csv or json`);
    if (values.out !== undefined && values.format !== undefined && format !== "md")
      throw usage("--out writes Markdown files and index.csv; drop --format (or use --format md)");
    if (values.template !== undefined && format !== "md")
      throw usage("--template shapes Markdown notices; it does not apply to --format csv or json");
    const template = await loadTemplate(io, values.template);
    const client = adminClient(io, values);
    if (client === null) {
      throw usage(
        "exposure notices reads the ledger through the gate's admin API; set REGION_GATE_URL and REGION_GATE_TOKEN (or pass --url and --token)",
      );
    }
    const q = new URLSearchParams({ format: "json" });
    for (const k of ["from", "to", "region", "provider", "limit"] as const) {
      const v = values[k];
      if (v) q.set(k, v);
    }

    const all: Notice[] = [];
    let meta: NoticesPage["meta"] | null = null;
    let cursor: string | null = null;
    let pages = 0;
    do {
      if (cursor !== null) q.set("cursor", cursor);
      const { body } = await client.json("GET", `/exposure/notices?${q}`, NOTICES);
      // NOTICES checked every field the rendering reads; decision keys are the ledger's own.
      const page = body as unknown as NoticesPage;
      meta ??= page.meta;
      all.push(...page.notices);
      cursor = page.next;
      pages++;
      if (cursor !== null || pages > 1) io.err(`notices: page ${pages}, ${all.length} customers so far\n`);
    } while (cursor !== null);
    if (meta === null) throw new CliError(EXIT.backend, "the gate sent no notices page; retry");

    if (values.out !== undefined) {
      const dir = resolve(io.cwd, values.out);
      await mkdir(dir, { recursive: true });
      const files = all.map((notice) => ({ file: noticeFileName(notice), notice }));
      for (const { file, notice } of files)
        await writeFile(join(dir, file), renderNotice(notice, meta, template));
      await writeFile(join(dir, "index.csv"), indexCsv(files));
      io.err(`wrote ${files.length} notice${files.length === 1 ? "" : "s"} and index.csv to ${dir}\n`);
      return EXIT.ok;
    }
    if (format === "json") io.out(`${JSON.stringify({ meta, notices: all }, null, 2)}\n`);
    else if (format === "csv") io.out(noticesCsv(all));
    else io.out(all.map((n) => renderNotice(n, meta, template)).join("\n"));
    return EXIT.ok;
  },
});
