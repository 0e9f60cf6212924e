/**
 * `region-gate exposure report`: the exposure ledger through the admin API (the ledger
 * lives in Durable Objects, which only the deployed gate can reach). Rows come in pages;
 * the command follows them to the end and prints one report.
 */
import { EXPOSURE } from "../answers";
import { adminClient } from "../backend";
import { command } from "../command";
import { EXIT, usage } from "../errors";
import { table } from "./policy";

const cell = (v: unknown): string =>
  v !== null && typeof v === "object"
    ? Object.entries(v as Record<string, unknown>)
        .map(([k, x]) => `${k}=${String(x)}`)
        .join(";")
    : String(v ?? "");

/** Rows of objects as a text table; nested objects become `k=v;k=v`. */
function objectsTable(rows: Array<Record<string, unknown>>, skip: string[] = []): string {
  if (rows.length === 0) return "(no rows)\n";
  const cols = Object.keys(rows[0]!).filter((k) => !skip.includes(k));
  return table(
    cols.map((c) => c.toUpperCase()),
    rows.map((r) => cols.map((c) => cell(r[c]))),
  );
}

export const exposure = command({
  name: "exposure report",
  brief: "ledger rows or --summary, as a table, json or csv",
  summary:
    "Which customers (key fingerprint, identity headers) sent traffic from unsupported regions, per day and region: the list to mail before an enforcement date.",
  args: [],
  options: {
    from: { type: "string" },
    to: { type: "string" },
    region: { type: "string" },
    decision: { type: "string" },
    format: { type: "string" },
    summary: { type: "boolean" },
    "page-size": { type: "string" },
    url: { type: "string" },
    token: { type: "string" },
  },
  help: `Options:
  --from DAY, --to DAY UTC days, inclusive (YYYY-MM-DD; default: everything)
  --region CODE        one region (CN, UA-43)
  --decision LIST      comma list of decisions (observe,warn,block,monitor,exempt)
  --summary            per-region totals instead of rows
  --format FMT         table (default), json or csv (CSV is printed as the gate sends it,
                       pages joined under one header row)
  --page-size N        rows per request to the gate (1-10000, default 10000); progress goes
                       to stderr while a report takes more than one page
  --url URL            the gate's base URL (env REGION_GATE_URL)
  --token TOKEN        its ADMIN_TOKEN (env REGION_GATE_TOKEN)`,
  async run(io, values) {
    const format = values.format ?? "table";
    if (!["table", "json", "csv"].includes(format))
      throw usage(`--format ${JSON.stringify(format)}: use table, json or csv`);
    const client = adminClient(io, values);
    if (client === null) {
      throw usage(
        "exposure report reads the ledger through the gate's admin API; set REGION_GATE_URL and REGION_GATE_TOKEN (or pass --url and --token)",
      );
    }
    const q = new URLSearchParams({ format: format === "csv" ? "csv" : "json" });
    for (const key of ["from", "to", "region", "decision"] as const) {
      const v = values[key];
      if (v) q.set(key, v);
    }
    if (values.summary) {
      q.set("summary", "1");
      const res = await client.send("GET", `/exposure?${q}`);
      if (format === "csv") {
        if (!res.ok) return client.fail(res, "GET", "/exposure");
        if (!res.headers.get("content-type")?.startsWith("text/csv"))
          return client.unexpected("GET", "/exposure", res, "instead of CSV");
        io.out(await res.text());
        return EXIT.ok;
      }
      const body = await client.read(res, "GET", "/exposure", EXPOSURE);
      io.out(
        format === "json"
          ? `${JSON.stringify(body, null, 2)}\n`
          : objectsTable((body as { summary?: Array<Record<string, unknown>> }).summary ?? []),
      );
      return EXIT.ok;
    }
    const pageSize = values["page-size"] ?? "10000";
    if (!/^\d+$/.test(pageSize) || Number(pageSize) < 1 || Number(pageSize) > 10_000)
      throw usage(`--page-size ${JSON.stringify(pageSize)}: use a whole number from 1 to 10000`);
    q.set("limit", pageSize);
    const rows: Array<Record<string, unknown>> = [];
    let csv = "";
    let note = "";
    let pages = 0;
    for (let cursor: string | null = null; ; ) {
      if (cursor !== null) q.set("cursor", cursor);
      const res = await client.send("GET", `/exposure?${q}`);
      pages++;
      if (format === "csv") {
        if (!res.ok) return client.fail(res, "GET", "/exposure");
        if (!res.headers.get("content-type")?.startsWith("text/csv"))
          return client.unexpected("GET", "/exposure", res, "instead of CSV");
        note = res.headers.get("x-identity-note") ?? note;
        const text = await res.text();
        // Later pages repeat the header row; the report keeps the first one.
        csv += pages === 1 ? text : text.slice(text.indexOf("\r\n") + 2);
        const link = res.headers.get("link");
        const next = link ? /<([^>]*)>;\s*rel="next"/.exec(link)?.[1] : undefined;
        cursor = next ? new URL(next, "http://gate.invalid").searchParams.get("cursor") : null;
      } else {
        const body = await client.read(res, "GET", "/exposure", EXPOSURE);
        rows.push(...((body as { rows?: Array<Record<string, unknown>> }).rows ?? []));
        if (typeof body.identityNote === "string") note = body.identityNote;
        cursor = typeof body.next === "string" ? body.next : null;
      }
      if (cursor === null) break;
      io.err(
        `exposure report: ${format === "csv" ? `${pages} pages` : `${rows.length} rows`} so far, reading on…\n`,
      );
    }
    if (format === "csv") io.out(csv);
    else if (format === "json")
      io.out(`${JSON.stringify({ rows, next: null, identityNote: note }, null, 2)}\n`);
    else io.out(objectsTable(rows, ["decisions"]));
    // Identity values name the customer for the mailing; they are claims (SPEC section 6).
    if (format !== "json" && note) io.err(`note: ${note}\n`);
    return EXIT.ok;
  },
});
