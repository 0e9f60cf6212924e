/**
 * `region-gate exposure notices`: one notice per customer from the gate's
 * `/exposure/notices`, following its pages. Printed as Markdown, CSV or JSON, or with
 * `--out DIR` written as one Markdown file per customer plus `index.csv` for a
 * mail-merge tool. Rendering is the worker's own code (src/ledger/notice-render.ts), so
 * the files say exactly what the route's `format=md` says.
 */
import { mkdir, readdir, rm, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { csvField } from "../../src/control/ledger/csv";
import {
  DEFAULT_TEMPLATE,
  identitiesCsv,
  NOTICE_SEPARATOR,
  type NoticeContext,
  noticesCsv,
  PLACEHOLDERS,
  renderNotice,
  subjectText,
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

/** File name of a customer's notice: its fingerprint, the same from one run to the next. */
export function noticeFileName(n: Notice): string {
  return `${n.fingerprint.replace(/[^A-Za-z0-9_-]/g, "_")}.md`;
}

/**
 * `index.csv`: one line per notice file, for a mail-merge tool: the subject, the identity
 * values seen (all of them, and one column per identity header), regions, days, requests,
 * next date, whether a day was capped, and the self-check URL.
 */
export function indexCsv(
  notices: readonly { file: string; notice: Notice }[],
  checkUrl: string | null,
): string {
  const names = [
    ...new Set(notices.flatMap(({ notice }) => notice.identities.flatMap((id) => Object.keys(id)))),
  ].sort();
  const header = [
    "file",
    "fingerprint",
    "subject",
    "identities",
    ...names.map((h) => `identity:${h}`),
    "regions",
    "region_names",
    "first_day",
    "last_day",
    "requests",
    "next_date",
    "next",
    "capped",
    "check_url",
  ];
  const line = (fields: (string | number)[]) => `${fields.map(csvField).join(",")}\r\n`;
  let out = line(header);
  for (const { file, notice: n } of notices) {
    out += line([
      file,
      n.fingerprint,
      subjectText(n),
      identitiesCsv(n),
      ...names.map((h) =>
        [...new Set(n.identities.map((id) => id[h]).filter((v) => v !== undefined))].join(";"),
      ),
      n.regions.map((r) => r.region).join(";"),
      n.regions.map((r) => r.name).join("; "),
      n.firstDay,
      n.lastDay,
      n.requests,
      n.nextDate ?? "",
      n.regions.map((r) => `${r.region}: ${r.next.text}`).join("; "),
      n.regions.some((r) => r.cappedDays.length > 0) ? "yes" : "no",
      checkUrl ?? "",
    ]);
  }
  return out;
}

/** Files an earlier `--out` run left in `dir`: its notices (`*.md`) and `index.csv`. */
async function oldNoticeFiles(dir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw err;
  }
  return names.filter((f) => f.endsWith(".md") || f === "index.csv").sort();
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
    "api-url": { type: "string" },
    contact: { type: "string" },
    force: { type: "boolean" },
    limit: { type: "string" },
    url: { type: "string" },
    token: { type: "string" },
  },
  help: `Options:
  --from DAY, --to DAY UTC days, inclusive (YYYY-MM-DD; default: everything)
  --region CODE        only this region (CN, UA-43); a notice then lists only it
  --format FMT         md (default), csv (one line per customer and region) or json
  --out DIR            write DIR/<fingerprint>.md per customer and DIR/index.csv (file,
                       subject, identity values, regions, days, next date) for a mail-merge
                       tool; refuses a folder that already holds notices (*.md, index.csv)
  --force              with --out: remove the old notice files of DIR first
  --template FILE      Markdown with {{placeholders}} instead of the default wording; see
                       docs/operations.md for the list ({{seen}} {{next}} {{actions}}
                       {{regions}} {{period}} {{next_date}} {{identity.<header>}} ...)
  --provider NAME      who mails it, e.g. "Example API" (signs the notice)
  --api-url URL        the API's base URL as customers call it (default: --url); each
                       notice tells the customer to call URL/__region-gate/check with its key
  --contact TEXT       where customers reply or appeal (a URL or an address); default:
                       "reply to this message"
  --limit N            notices per page read from the gate (default 100, at most 1000)
  --url URL            the gate's base URL (env REGION_GATE_URL)
  --token TOKEN        its ADMIN_TOKEN (env REGION_GATE_TOKEN)

One notice per key the API accepted; requests without a key, with a key the API refused,
and past the ledger's daily cap make none. Progress goes to stderr; the notices to stdout
(or to --out).`,
  async run(io, values) {
    const format = values.format ?? "md";
    if (!["md", "csv", "json"].includes(format))
      throw usage(`--format ${JSON.stringify(format)}: use md, csv or json`);
    if (values.out !== undefined && values.format !== undefined && format !== "md")
      throw usage("--out writes Markdown files and index.csv; drop --format (or use --format md)");
    if (values.force && values.out === undefined) throw usage("--force only applies with --out DIR");
    if (values.template !== undefined && format !== "md")
      throw usage("--template shapes Markdown notices; it does not apply to --format csv or json");
    const template = await loadTemplate(io, values.template);
    // Checked before anything is read: a folder of old notices is refused, not mixed with new ones.
    const dir = values.out === undefined ? null : resolve(io.cwd, values.out);
    const old = dir === null ? [] : await oldNoticeFiles(dir);
    if (old.length > 0 && !values.force) {
      throw usage(
        `--out ${values.out} already holds notices of an earlier run (${old.length} file${old.length === 1 ? "" : "s"}: ${old.slice(0, 3).join(", ")}${old.length > 3 ? ", ..." : ""}); a mail tool taking every .md there would send old ones too. Use an empty folder, or add --force to remove them first`,
      );
    }
    const client = adminClient(io, values);
    if (client === null) {
      throw usage(
        "exposure notices reads the ledger through the gate's admin API; set REGION_GATE_URL and REGION_GATE_TOKEN (or pass --url and --token)",
      );
    }
    const q = new URLSearchParams({ format: "json" });
    for (const k of ["from", "to", "region", "provider", "contact", "limit"] as const) {
      const v = values[k];
      if (v) q.set(k, v);
    }
    if (values["api-url"]) q.set("api", values["api-url"]);

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

    if (dir !== null) {
      for (const f of old) await rm(join(dir, f));
      await mkdir(dir, { recursive: true });
      const files = all.map((notice) => ({ file: noticeFileName(notice), notice }));
      for (const { file, notice } of files)
        await writeFile(join(dir, file), renderNotice(notice, meta, template));
      await writeFile(join(dir, "index.csv"), indexCsv(files, meta.checkUrl));
      if (old.length > 0)
        io.err(`removed ${old.length} old notice file${old.length === 1 ? "" : "s"} (--force)\n`);
      io.err(`wrote ${files.length} notice${files.length === 1 ? "" : "s"} and index.csv to ${dir}\n`);
      return EXIT.ok;
    }
    if (format === "json") io.out(`${JSON.stringify({ meta, notices: all }, null, 2)}\n`);
    else if (format === "csv") io.out(noticesCsv(all));
    else io.out(all.map((n) => renderNotice(n, meta, template)).join(NOTICE_SEPARATOR));
    return EXIT.ok;
  },
});
