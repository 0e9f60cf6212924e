/**
 * Notices as a provider mails them: Markdown from a template with named placeholders,
 * and CSV. Pure, so the admin route (worker) and `region-gate exposure notices` (Node)
 * render the same text from the same notice.
 */

import { LEDGER_DECISIONS } from "../../policy/ledger-decisions";
import { csvField, identityText } from "../ledger/csv";
import { IDENTITY_NOTE, type Notice, type NoticeRegion } from "./notices";

/** Facts of a whole notice run, the same for every notice in it. */
export interface NoticeContext {
  /** Who sends the mail: "a region that <provider> does not currently support". */
  provider: string;
  policyVersion: string;
  docsUrl: string | null;
  /** The ledger range read (inclusive UTC days), null when open. */
  from: string | null;
  to: string | null;
  generatedAt: string;
}

/** Default wording of `provider` when none is given. */
export const DEFAULT_PROVIDER = "our service";

const MONTHS = [
  "January",
  "February",
  "March",
  "April",
  "May",
  "June",
  "July",
  "August",
  "September",
  "October",
  "November",
  "December",
];

/** `July 9, 2024` (and `at 14:30 UTC` off midnight) from an RFC 3339 instant or a day. */
export function mailDate(text: string): string {
  const d = new Date(text.length === 10 ? `${text}T00:00:00Z` : text);
  if (!Number.isFinite(d.getTime())) return text;
  const day = `${MONTHS[d.getUTCMonth()]} ${d.getUTCDate()}, ${d.getUTCFullYear()}`;
  const time = d.toISOString().slice(11, 16);
  return time === "00:00" ? day : `${day} at ${time} UTC`;
}

/**
 * Markdown text with the characters that act inline escaped (emphasis, code, links, HTML,
 * table pipes). `#`, `+`, `-` and `.` only act at the start of a line, which a table cell
 * or a sentence never is, so dates and names stay readable (`2024-07-09`, not `2024\\-07\\-09`).
 */
export function mdText(s: string): string {
  return s.replace(/[\\`*_{}[\]()<>!|~]/g, (c) => `\\${c}`);
}

/** `1 request`, `5 requests`. */
export function requestsText(n: number): string {
  return `${n} ${n === 1 ? "request" : "requests"}`;
}

/** The sentence a notice says about one region. */
export function regionSentence(r: NoticeRegion): string {
  const where = `Requests from ${r.name}`;
  const n = r.next;
  const monitor = n.monitorOnly ? " For now the gate only records them: they still pass." : "";
  switch (n.action) {
    case "warn":
      return `${where} will carry a deprecation warning (a \`Sunset\` header) starting on ${mailDate(n.at!)}${
        n.blockAt ? ` and will be blocked starting on ${mailDate(n.blockAt)}.` : "; no block date is set yet."
      }${n.blockAt ? monitor : ""}`;
    case "block":
      return `${where} will be blocked starting on ${mailDate(n.at!)}.${monitor}`;
    case "blocked":
      return `${n.at ? `${where} have been blocked since ${mailDate(n.at)}.` : `${where} are blocked.`}${monitor}`;
    case "none":
      return `No enforcement date is set for ${r.name} yet; requests from there still pass.`;
    case "supported":
      return `${r.name} is no longer restricted by the current policy.`;
  }
}

/** Who the notice is about, in words. */
export function customerText(n: Notice): string {
  const ids = Object.entries(n.identity).map(([k, v]) => `${k} \`${v.replaceAll("`", "'")}\``);
  const claimed = ids.length > 0 ? `, ${ids.join(", ")} (as claimed in request headers)` : "";
  if (n.fingerprint === "overflow")
    return "customers beyond the ledger's per-day limit (EXPOSURE_MAX_CUSTOMERS), counted together";
  if (n.fingerprint === "anonymous") return `requests without an API key${claimed}`;
  if (n.fingerprint === "unfingerprinted")
    return `requests whose key was not fingerprinted (IDENTITY_SALT unset)${claimed}`;
  return `API key with fingerprint \`${n.fingerprint}\`${claimed}`;
}

/** Markdown table of a notice's regions. */
export function regionsTable(n: Notice): string {
  const lines = [
    "| Region | First day | Last day | Days | Requests | Blocked | What happens next |",
    "|---|---|---|---:|---:|---:|---|",
  ];
  for (const r of n.regions) {
    lines.push(
      `| ${mdText(r.name)} | ${r.firstDay} | ${r.lastDay} | ${r.days} | ${r.requests} | ${r.decisions.block} | ${mdText(r.next.text)} |`,
    );
  }
  return lines.join("\n");
}

/**
 * The placeholders a template may use, `{{name}}`, with their meaning (documented in
 * docs/operations.md). `{{identity.<header>}}` gives one claimed identity value.
 */
export const PLACEHOLDERS: Record<string, string> = {
  provider: "who sends the notice (--provider / provider=)",
  customer: "who the notice is about, in words (fingerprint and claimed identity)",
  fingerprint: "the key fingerprint (16 hex, `anonymous` without a key)",
  identity: "claimed identity values as name=value;name=value",
  regions: "region names, comma separated, e.g. China, Russia",
  region_codes: "region codes, e.g. CN;RU",
  first_day: "first day with traffic, e.g. July 1, 2024",
  last_day: "last day with traffic",
  requests: "requests counted in the range (a number)",
  requests_text: "the same in words: `1 request`, `5 requests`",
  next_date: "earliest step still ahead, e.g. July 9, 2024 (`none` when there is none)",
  enforcement: "one sentence per region on what the policy does next there, as a list",
  table: "Markdown table: region, first and last day, days, requests, blocked, next step",
  exemption: "a sentence on a fingerprint exemption, empty when there is none",
  docs: "`Supported regions: <docsUrl>`, empty when the policy sets no error.docsUrl",
  docs_url: "the policy's error.docsUrl, empty when unset",
  policy_version: "version of the active policy",
  range: "the ledger range read, e.g. 2024-06-01 to 2024-07-31",
  generated_at: "when the notices were made (RFC 3339)",
  identity_note: "the sentence saying identity values are claims",
};

/** The default notice, in the words the story uses. */
export const DEFAULT_TEMPLATE = `# Traffic from regions that {{provider}} does not support

Customer: {{customer}}

Our data shows that your organization has API traffic from a region that {{provider}} does not currently support: {{regions}}, between {{first_day}} and {{last_day}} ({{requests_text}}).

{{enforcement}}

{{exemption}}

{{table}}

{{docs}}

---
Key fingerprint \`{{fingerprint}}\`: the first 16 hex characters of an HMAC of the API key; the key itself is never stored. {{identity_note}} Ledger data {{range}}, policy {{policy_version}}, generated {{generated_at}}.
`;

const PLACEHOLDER = /\{\{\s*([a-z_]+(?:\.[!-~]+?)?)\s*\}\}/g;

/** Placeholders in `template` that are not known (empty when the template is fine). */
export function unknownPlaceholders(template: string): string[] {
  const bad = new Set<string>();
  for (const m of template.matchAll(PLACEHOLDER)) {
    const name = m[1]!;
    if (!(name in PLACEHOLDERS) && !name.startsWith("identity.")) bad.add(name);
  }
  return [...bad];
}

function values(n: Notice, ctx: NoticeContext): Record<string, string> {
  const range =
    ctx.from || ctx.to
      ? `${ctx.from ?? "the first day"} to ${ctx.to ?? "today"}`
      : "over the whole retention";
  return {
    provider: ctx.provider,
    customer: customerText(n),
    fingerprint: n.fingerprint,
    identity: identityText(n.identity),
    regions: n.regions.map((r) => r.name).join(", "),
    region_codes: n.regions.map((r) => r.region).join(";"),
    first_day: mailDate(n.firstDay),
    last_day: mailDate(n.lastDay),
    requests: String(n.requests),
    requests_text: requestsText(n.requests),
    next_date: n.nextDate ? mailDate(n.nextDate) : "none",
    enforcement: n.regions.map((r) => `- ${regionSentence(r)}`).join("\n"),
    table: regionsTable(n),
    exemption: n.exemption
      ? `This key is exempted from blocking${n.exemption.until ? ` until ${mailDate(n.exemption.until)}` : ""}.`
      : "",
    docs: ctx.docsUrl ? `Supported regions: ${ctx.docsUrl}` : "",
    docs_url: ctx.docsUrl ?? "",
    policy_version: ctx.policyVersion,
    range,
    generated_at: ctx.generatedAt,
    identity_note: IDENTITY_NOTE,
  };
}

/**
 * A notice as Markdown from `template` (default: `DEFAULT_TEMPLATE`). Lines left empty
 * by an empty placeholder are dropped, so optional parts leave no gaps.
 */
export function renderNotice(n: Notice, ctx: NoticeContext, template = DEFAULT_TEMPLATE): string {
  const v = values(n, ctx);
  const out = template.replace(PLACEHOLDER, (_, name: string) =>
    name.startsWith("identity.") ? (n.identity[name.slice(9)] ?? "") : (v[name] ?? ""),
  );
  // Paragraphs left empty by an empty placeholder collapse, so optional parts leave no gaps.
  return `${out.replace(/\n{3,}/g, "\n\n").trimEnd()}\n`;
}

/** Every notice of a page as one Markdown document. */
export function noticesMarkdown(notices: readonly Notice[], ctx: NoticeContext): string {
  return notices.map((n) => renderNotice(n, ctx)).join("\n");
}

const line = (fields: (string | number | null)[]) => `${fields.map((f) => csvField(f ?? "")).join(",")}\r\n`;

/** CSV header of `noticesCsv`; `claimed_identity` says the values are claims. */
export const NOTICES_CSV_HEADER = [
  "fingerprint",
  "claimed_identity",
  "region",
  "region_name",
  "first_day",
  "last_day",
  "days",
  "requests",
  ...LEDGER_DECISIONS,
  "next_action",
  "next_at",
  "next",
];

/** Notices as CSV: one line per customer and region, a customer's lines together. */
export function noticesCsv(notices: readonly Notice[], header = true): string {
  let out = header ? line(NOTICES_CSV_HEADER) : "";
  for (const n of notices) {
    for (const r of n.regions) {
      out += line([
        n.fingerprint,
        identityText(n.identity),
        r.region,
        r.name,
        r.firstDay,
        r.lastDay,
        r.days,
        r.requests,
        ...LEDGER_DECISIONS.map((d) => r.decisions[d]),
        r.next.action,
        r.next.at,
        r.next.text,
      ]);
    }
  }
  return out;
}
