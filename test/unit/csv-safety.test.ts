/**
 * Issue 20, finding 2: no CSV the project writes can carry a formula into a spreadsheet.
 * Every CSV writer (exposure rows and summary, also the dashboard's download; notices;
 * the CLI's `index.csv`; `key fingerprint --csv`) gets text cells that begin with `=`, `+`,
 * `-`, `@`, a tab or a carriage return, and every cell of its output must then begin with
 * none of them.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { indexCsv } from "../../cli/commands/notices";
import { runCli } from "../../cli/main";
import { type ExposureRow, rowsCsv, summaryCsv } from "../../src/control/ledger/report";
import { noticesCsv } from "../../src/control/notices/notice-render";
import { buildNotices } from "../../src/control/notices/notices";
import { compilePolicy } from "../../src/policy/compile";
import { specPolicy } from "../fixtures/policies";

/** Minimal RFC 4180 reader: the cells as a spreadsheet gets them. */
function cells(text: string): string[] {
  const field = /(?:"((?:[^"]|"")*)"|([^",\r\n]*))(,|\r?\n)/y;
  const out: string[] = [];
  while (field.lastIndex < text.length) {
    const m = field.exec(text);
    if (!m)
      throw new Error(
        `malformed CSV at offset ${field.lastIndex}: ${JSON.stringify(text.slice(field.lastIndex, field.lastIndex + 40))}`,
      );
    out.push(m[1] !== undefined ? m[1].replaceAll('""', '"') : (m[2] ?? ""));
  }
  return out;
}

const DANGER = /^[=+\-@\t\r]/;
const hostile = fc
  .tuple(fc.constantFrom("=", "+", "-", "@", "\t", "\r"), fc.string({ maxLength: 30 }))
  .map(([start, rest]) => `${start}${rest}`);
const KNOWN = [
  '=HYPERLINK("https://evil.example","click")',
  "+cmd|' /C calc'!A0",
  "@SUM(1+1)",
  "-2+3",
  "\t=1+1",
  "\r=1+1",
];

const policy = compilePolicy(specPolicy());
const zero = { observe: 0, warn: 0, block: 0, monitor: 0, exempt: 0 };

/** Every CSV writer, fed `bad` wherever it writes text that a client or an operator chose. */
const WRITERS: Record<string, (bad: string) => Promise<string> | string> = {
  "exposure rows (GET /exposure, the dashboard's download)": (bad) => {
    const row: ExposureRow = {
      day: "2024-07-01",
      region: "CN",
      fingerprint: bad,
      identity: { [bad]: bad },
      requests: 1,
      blocked: 0,
      decisions: { ...zero, warn: 1 },
      verified: true,
      capped: false,
      networks: [{ network: bad, name: bad, class: bad, requests: 1 }],
    };
    return rowsCsv([row]);
  },
  "exposure summary": (bad) =>
    summaryCsv([
      { region: bad, customers: 1, requests: 1, blocked: 0, firstDay: bad, lastDay: bad, cappedDays: 0 },
    ]),
  "notices (GET /exposure/notices?format=csv, the CLI's --format csv)": (bad) => noticesCsv(noticesOf(bad)),
  "the CLI's index.csv": (bad) =>
    indexCsv(
      noticesOf(bad).map((notice) => ({ file: `${bad}.md`, notice })),
      bad,
    ),
  "key fingerprint --csv": async (bad) => {
    let out = "";
    const code = await runCli(["key", "fingerprint", "--csv"], {
      out: (t) => (out += t),
      err: () => {},
      env: { IDENTITY_SALT: "salt" },
      cwd: process.cwd(),
      readStdin: async () => `"${bad.replaceAll('"', '""')}",sk-key-1\n`,
      confirm: async () => null,
    });
    expect(code).toBe(0);
    return out;
  },
};

/** A notice whose identity values and network name are `bad` (as a row of any release could hold them). */
function noticesOf(bad: string) {
  const notices = buildNotices(
    [
      {
        day: "2024-07-01",
        region: "CN",
        fingerprint: "aaaa000000000001",
        identity: JSON.stringify({ [bad]: bad }),
        decisions: { ...zero, warn: 1 },
        verified: true,
        networks: [{ asn: 64500, name: bad, class: bad, requests: 1 }],
      },
    ],
    policy,
    Date.parse("2024-07-02T00:00:00Z"),
  );
  // The fingerprint and region name too, as if they were client text.
  for (const n of notices) {
    n.fingerprint = bad;
    for (const r of n.regions) r.name = bad;
  }
  return notices;
}

describe("CSV safety in every writer", () => {
  it.each(Object.keys(WRITERS))("%s: no cell begins with = + - @ tab or CR", async (name) => {
    const write = WRITERS[name]!;
    for (const bad of KNOWN) {
      const text = await write(bad);
      const got = cells(text);
      expect(got.filter((c) => DANGER.test(c))).toEqual([]);
      expect(got).toContain(`'${bad}`);
    }
    await fc.assert(
      fc.asyncProperty(hostile, async (bad) => {
        expect(cells(await write(bad)).filter((c) => DANGER.test(c))).toEqual([]);
      }),
      { numRuns: 50 },
    );
  });
});
