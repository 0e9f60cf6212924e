/**
 * Notices as a provider mails them: Markdown from a template with named placeholders,
 * written to read as well unrendered (plain text) as rendered, and CSV. Pure, so the admin
 * route (worker), `/check` and `region-gate exposure notices` (Node) render the same text
 * from the same notice.
 *
 * Client-sent text (identity values, network names) appears only inside code spans, so no
 * link, image, emphasis or HTML is ever made from it; every other value is escaped for
 * Markdown. Both hold for every placeholder, `{{identity…}}` included.
 */

import { INVALID_IDENTITY as INVALID } from "../../exposure/wire";
import { LEDGER_DECISIONS } from "../../policy/ledger-decisions";
import { csvField } from "../ledger/csv";
import { CLOUD_CLASS, type Notice, type NoticeNetwork, type NoticeRegion } from "./notices";
import { capitalised, codeSpan, daysText, listText, mailDate, mdText, requestsText } from "./words";

/** Facts of a whole notice run, the same for every notice in it. */
export interface NoticeContext {
  /** Who sends the mail, e.g. `Example API`. */
  provider: string;
  policyVersion: string;
  docsUrl: string | null;
  /** The self-check on the API's hostname (`https://api.example.com/__region-gate/check`), null when unknown. */
  checkUrl: string | null;
  /** Where a customer replies or appeals (a URL or an address), null: "reply to this message". */
  contact: string | null;
  /** The ledger range read (inclusive UTC days), null when open. */
  from: string | null;
  to: string | null;
  generatedAt: string;
}

/** Default wording of `provider` when none is given. */
export const DEFAULT_PROVIDER = "our service";

/** `AS16509 `Amazon.com`, cloud`: a network as a notice names it (SPEC section 6). */
export function networkText(n: NoticeNetwork): string {
  if (n.network === "other") return "other networks";
  return `${n.network}${n.name ? ` ${codeSpan(n.name)}` : ""}${n.class ? `, ${mdText(n.class)}` : ""}`;
}

/** What became of a code's requests, in a customer's words: `all passed`, `5 of them were refused`. */
function outcomeText(r: NoticeRegion): string {
  const refused = r.decisions.block;
  if (refused === 0) return r.requests === 1 ? "it passed" : "all passed";
  if (refused === r.requests) return r.requests === 1 ? "it was refused" : "all were refused";
  return `${refused} of them ${refused === 1 ? "was" : "were"} refused`;
}

/** One code of the "what we saw" list: requests, days, outcome, networks. */
export function seenLine(r: NoticeRegion): string {
  let line = `${capitalised(mdText(r.name))}: ${requestsText(r.requests)} ${daysText(r.dayList)}; ${outcomeText(r)}.`;
  const named = r.networks.filter((n) => n.network !== "other");
  if (named.length > 0) {
    const parts = r.networks.map((n) => `${networkText(n)} (${n.requests})`);
    line += ` ${r.networks.length === 1 ? "Network" : "Networks"}: ${parts.join("; ")}.`;
  }
  return line;
}

/** `requests from China`, `requests through network AS60068`. */
const requestsFrom = (r: NoticeRegion) =>
  r.name.startsWith("network ") ? `requests through ${mdText(r.name)}` : `requests from ${mdText(r.name)}`;

/** What the active policy does next for one code, in a customer's words; never contradicts an exemption. */
export function nextSentence(r: NoticeRegion, n: Notice): string {
  const s = r.next;
  const what = requestsFrom(r);
  const What = capitalised(what);
  const monitor = s.monitorOnly;
  let text: string;
  switch (s.action) {
    case "warn": {
      const refused = s.blockAt
        ? `from ${mailDate(s.blockAt)}, those requests ${monitor ? "are due to be refused (for now they still pass)" : "will be refused"}.`
        : "no date is set yet for refusing them.";
      text = `From ${mailDate(s.at!)}, our answers to ${what} will carry a warning (a \`Sunset\` header); ${refused}`;
      break;
    }
    case "block":
      text = monitor
        ? `${What} are due to be refused from ${mailDate(s.at!)}; for now they still pass.`
        : `From ${mailDate(s.at!)}, ${what} will be refused.`;
      break;
    case "blocked":
      if (monitor) text = `${What} are due to be refused; for now they still pass.`;
      else text = s.at ? `${What} have been refused since ${mailDate(s.at)}.` : `${What} are refused.`;
      break;
    case "none":
      text = `No date is set for refusing ${what}; they still pass.`;
      break;
    case "supported":
      return `${capitalised(mdText(r.name))} is no longer restricted: nothing changes there.`;
  }
  if (n.exemption && s.action !== "none") {
    text += n.exemption.until
      ? ` This key is exempt until ${mailDate(n.exemption.until)}, so its requests pass until then.`
      : " This key is exempt, so its requests pass.";
  }
  return text;
}

/** The paragraph that says which key and which identities. */
function keyParagraph(n: Notice, ctx: NoticeContext): string {
  let text = `We are writing about your API key with the fingerprint ${codeSpan(n.fingerprint)}`;
  const ids = identitiesText(n);
  if (ids) text += `, used with ${ids}`;
  const where = n.regions.length === 1 ? "a region" : "regions";
  const period = daysText(n.regions.flatMap((r) => r.dayList));
  return `${text}. ${capitalised(period)}, ${mdText(ctx.provider)} received ${requestsText(n.requests)} made with this key from ${where} that we do not currently support:`;
}

/**
 * `openai-organization `org-a` and `org-b``; empty without identity values. `invalid`
 * (a value outside the alphabet) names nothing, so prose leaves it out.
 */
export function identitiesText(n: Notice): string {
  const byHeader = new Map<string, Set<string>>();
  for (const id of n.identities) {
    for (const [k, v] of Object.entries(id)) {
      if (v === INVALID) continue;
      const set = byHeader.get(k) ?? new Set<string>();
      set.add(v);
      byHeader.set(k, set);
    }
  }
  return listText(
    [...byHeader.entries()]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([k, vs]) => `${mdText(k)} ${listText([...vs].sort().map(codeSpan))}`),
  );
}

/** A list as Markdown that reads as text: a paragraph for one item, `- ` lines for more. */
const listBlock = (items: readonly string[]) =>
  items.length === 1 ? items[0]! : items.map((i) => `- ${i}`).join("\n");

/** What was seen: which key, then each restricted code. */
function seenText(n: Notice, ctx: NoticeContext): string {
  return `${keyParagraph(n, ctx)}\n\n${listBlock(n.regions.map(seenLine))}`;
}

/** A paragraph for each code whose traffic came mostly through cloud networks; empty otherwise. */
function cloudText(n: Notice): string {
  const out: string[] = [];
  for (const r of n.regions) {
    if (r.cloudRequests * 2 <= r.requests) continue;
    const clouds = r.networks.filter((x) => x.class === CLOUD_CLASS).map(networkText);
    const share =
      r.cloudRequests === r.requests
        ? r.requests === 1
          ? "The request"
          : `All ${r.requests} requests`
        : `${r.cloudRequests} of the ${r.requests} requests`;
    const [servers, them] =
      r.cloudRequests === 1
        ? ["the server that sent it runs", "it"]
        : ["the servers sending them run", "them"];
    out.push(
      `${share} from ${mdText(r.name)} came through a cloud provider's network (${listText(clouds)}). That usually means ${servers} in a data centre in ${mdText(r.name)}: running ${them} in a cloud region of a supported country ends this.`,
    );
  }
  return out.join("\n\n");
}

function unrestrictedText(n: Notice): string {
  if (n.unrestricted.length === 0) return "";
  const names = listText(n.unrestricted.map((r) => mdText(r.name)));
  const requests = n.unrestricted.reduce((s, r) => s + r.requests, 0);
  return `We also saw ${requestsText(requests)} from ${names}; ${
    n.unrestricted.length === 1 ? "it is" : "they are"
  } no longer restricted, so nothing changes there.`;
}

function cappedText(n: Notice): string {
  const out: string[] = [];
  for (const r of n.regions) {
    if (r.cappedDays.length === 0) continue;
    out.push(
      `${capitalised(daysText(r.cappedDays))}, more customers than our records keep for one day sent requests from ${mdText(r.name)}, so requests of a key first seen there that day may be missing from the count above.`,
    );
  }
  return out.join(" ");
}

function nextText(n: Notice): string {
  return listBlock(n.regions.map((r) => nextSentence(r, n)));
}

function actionsText(ctx: NoticeContext): string {
  const move = `Send these requests from a supported region instead${ctx.docsUrl ? `; the supported regions are listed at ${ctx.docsUrl}` : ""}.`;
  const where = ctx.checkUrl ?? "/__region-gate/check (on our API's hostname)";
  const check = `Not sure which of your keys this is? Call our self-check with the key; it answers with the key's fingerprint and the traffic we recorded for it:\n\n    curl -H "Authorization: Bearer YOUR_API_KEY" ${where}`;
  const reply = `If you think this is a mistake, or you need more time, ${
    ctx.contact ? `contact us at ${mdText(ctx.contact)}` : "reply to this message"
  }.`;
  return `- ${move}\n- ${reply}\n\n${check}`;
}

/** The subject line of a notice's mail. */
export function subjectText(n: Notice): string {
  const names = n.regions.map((r) => r.name);
  const where = names.length <= 2 ? listText(names) : `${names.length} unsupported regions`;
  return capitalised(`your API requests from ${where}`);
}

/**
 * The placeholders a template may use, `{{name}}`, with what each can contain (also in
 * docs/operations.md). Every value is Markdown-safe: client-sent text only in code spans.
 */
export const PLACEHOLDERS: Record<string, string> = {
  provider: "who sends the notice (--provider / provider=), escaped text",
  subject: "a subject line, e.g. `Your API requests from China`",
  fingerprint: "the key fingerprint (16 hex characters), as a code span",
  identity:
    "identity values seen on the key's accepted requests, each header name followed by its values as code spans; empty when none",
  "identity.<header>":
    "that header's values (1-64 of A-Z a-z 0-9 . _ : -, or `invalid`), as code spans joined by `and`; empty when none",
  regions: "the restricted regions in words, e.g. `China and Russia`",
  region_codes: "their codes, e.g. `CN;RU`",
  period: "the days with traffic, e.g. `from July 1 to July 9, 2026`",
  first_day: "first day with traffic, e.g. `July 1, 2026`",
  last_day: "last day with traffic",
  requests: "requests from the restricted regions (a number)",
  requests_text: "the same in words: `1 request`, `5 requests`",
  seen: "paragraphs: which key, then each region with its requests, days, outcome and networks",
  networks: "a paragraph for each region whose traffic came mostly through cloud networks; empty otherwise",
  unrestricted: "a sentence on regions seen that are no longer restricted; empty when none",
  capped: "a sentence on days when the record was full, so counts may be short; empty when none",
  next: "what happens next in each region and when (and the key's exemption, if any)",
  next_date: "earliest step still ahead, e.g. `July 9, 2026` (`none` when there is none)",
  actions: "what the customer can do: move the traffic, reply, and the self-check call",
  check_url: "the self-check URL on the API's hostname (--api-url / api=)",
  contact: "where to reply or appeal (--contact / contact=); empty when unset",
  docs_url: "the policy's error.docsUrl, empty when unset",
  policy_version: "version of the active policy",
  range: "the ledger range read, e.g. `2026-06-01 to 2026-07-31`",
  generated_at: "when the notices were made (RFC 3339)",
};

/** The default notice: a greeting, what was seen, what happens next, what the customer can do. */
export const DEFAULT_TEMPLATE = `Hello,

{{seen}}

{{networks}}

{{unrestricted}}

{{capped}}

## What happens next

{{next}}

## What you can do

{{actions}}

Thank you,
{{provider}}
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
    provider: mdText(ctx.provider),
    subject: mdText(subjectText(n)),
    fingerprint: codeSpan(n.fingerprint),
    identity: identitiesText(n),
    regions: listText(n.regions.map((r) => mdText(r.name))),
    region_codes: mdText(n.regions.map((r) => r.region).join(";")),
    period: daysText(n.regions.flatMap((r) => r.dayList)),
    first_day: mailDate(n.firstDay),
    last_day: mailDate(n.lastDay),
    requests: String(n.requests),
    requests_text: requestsText(n.requests),
    seen: seenText(n, ctx),
    networks: cloudText(n),
    unrestricted: unrestrictedText(n),
    capped: cappedText(n),
    next: nextText(n),
    next_date: n.nextDate ? mailDate(n.nextDate) : "none",
    actions: actionsText(ctx),
    // URLs as they are: the policy's docsUrl is a normalised https URL (SPEC section 2) and
    // checkUrl a URL's origin, so neither holds a character Markdown acts on; escaping would
    // break the link a mail client makes of them.
    check_url: ctx.checkUrl ?? "",
    contact: mdText(ctx.contact ?? ""),
    docs_url: ctx.docsUrl ?? "",
    policy_version: mdText(ctx.policyVersion),
    range: mdText(range),
    generated_at: ctx.generatedAt,
  };
}

/** `{{identity.<header>}}`: that header's values as code spans. */
function identityValues(n: Notice, header: string): string {
  const vs = new Set<string>();
  for (const id of n.identities) {
    const v = id[header];
    if (v !== undefined) vs.add(v);
  }
  return listText([...vs].sort().map(codeSpan));
}

/**
 * A notice as Markdown from `template` (default: `DEFAULT_TEMPLATE`). Paragraphs left
 * empty by an empty placeholder are dropped, so optional parts leave no gaps.
 */
export function renderNotice(n: Notice, ctx: NoticeContext, template = DEFAULT_TEMPLATE): string {
  const v = values(n, ctx);
  const out = template.replace(PLACEHOLDER, (_, name: string) =>
    name.startsWith("identity.") ? identityValues(n, name.slice(9)) : (v[name] ?? ""),
  );
  return `${out.replace(/\n{3,}/g, "\n\n").trimEnd()}\n`;
}

/** Between two notices of one Markdown document: a rule. */
export const NOTICE_SEPARATOR = "\n---\n\n";

/** Every notice of a page as one Markdown document, separated by rules. */
export function noticesMarkdown(notices: readonly Notice[], ctx: NoticeContext): string {
  return notices.map((n) => renderNotice(n, ctx)).join(NOTICE_SEPARATOR);
}

const line = (fields: (string | number | null)[]) => `${fields.map((f) => csvField(f ?? "")).join(",")}\r\n`;

/** `openai-organization=org-a;openai-organization=org-b`: a notice's identity values, for CSV. */
export function identitiesCsv(n: Notice): string {
  return n.identities.flatMap((id) => Object.entries(id).map(([k, v]) => `${k}=${v}`)).join(";");
}

/** `AS16509=20;other=2`: networks with their requests, for CSV. */
const networksCsv = (r: NoticeRegion) => r.networks.map((x) => `${x.network}=${x.requests}`).join(";");

/** CSV header of `noticesCsv`. */
export const NOTICES_CSV_HEADER = [
  "fingerprint",
  "identities",
  "region",
  "region_name",
  "restricted",
  "first_day",
  "last_day",
  "days",
  "requests",
  ...LEDGER_DECISIONS,
  "networks",
  "capped_days",
  "next_action",
  "next_at",
  "next",
];

/** Notices as CSV: one line per customer and region (restricted ones first), a customer's lines together. */
export function noticesCsv(notices: readonly Notice[], header = true): string {
  let out = header ? line(NOTICES_CSV_HEADER) : "";
  for (const n of notices) {
    for (const r of [...n.regions, ...n.unrestricted]) {
      out += line([
        n.fingerprint,
        identitiesCsv(n),
        r.region,
        r.name,
        r.next.action === "supported" ? "no" : "yes",
        r.firstDay,
        r.lastDay,
        r.days,
        r.requests,
        ...LEDGER_DECISIONS.map((d) => r.decisions[d]),
        networksCsv(r),
        r.cappedDays.join(";"),
        r.next.action,
        r.next.at,
        r.next.text,
      ]);
    }
  }
  return out;
}
