import { describe, expect, it } from "vitest";
import {
  DEFAULT_TEMPLATE,
  mailDate,
  mdText,
  noticesCsv,
  renderNotice,
  requestsText,
  unknownPlaceholders,
} from "../../src/control/notices/notice-render";
import { buildNotices, type NoticeRow, nextStep } from "../../src/control/notices/notices";
import { compilePolicy } from "../../src/policy/compile";
import { specPolicy } from "../fixtures/policies";

const policy = compilePolicy(specPolicy());
const at = (t: string) => Date.parse(t);
const counts = (d: Partial<Record<"observe" | "warn" | "block" | "monitor" | "exempt", number>>) => ({
  observe: 0,
  warn: 0,
  block: 0,
  monitor: 0,
  exempt: 0,
  ...d,
});
const row = (
  day: string,
  region: string,
  fingerprint: string,
  identity: string,
  d: Parameters<typeof counts>[0],
): NoticeRow => ({ day, region, fingerprint, identity, decisions: counts(d) });

describe("nextStep", () => {
  it.each([
    ["CN", "2024-06-01T00:00:00Z", "warn", "warn from 2024-06-25, blocked from 2024-07-09"],
    ["CN", "2024-07-01T00:00:00Z", "block", "blocked from 2024-07-09"],
    ["CN", "2024-07-10T00:00:00Z", "blocked", "blocked since 2024-07-09"],
    ["RU", "2024-06-01T00:00:00Z", "block", "blocked from 2024-07-09"],
    ["UA-43", "2024-06-01T00:00:00Z", "blocked", "blocked since 2022-03-01"],
    ["VE", "2024-07-01T00:00:00Z", "warn", "warn from 2024-08-01, no block date set"],
    ["VE", "2024-09-01T00:00:00Z", "none", "no enforcement date set"],
    ["DE", "2024-09-01T00:00:00Z", "supported", "not restricted"],
    ["T1", "2024-09-01T00:00:00Z", "blocked", "blocked"],
  ])("%s at %s: %s (%s)", (region, now, action, text) => {
    const step = nextStep(policy, region, at(now));
    expect(step.action).toBe(action);
    expect(step.text).toBe(text);
  });

  it("says so in monitor mode", () => {
    const monitored = compilePolicy(specPolicy({ mode: "monitor" }));
    expect(nextStep(monitored, "CN", at("2024-07-10T00:00:00Z")).text).toBe(
      "blocked since 2024-07-09 (monitor mode: requests still pass)",
    );
  });

  it("without an enforcement section: blocked, no date", () => {
    const now = compilePolicy(specPolicy({ enforcement: undefined }));
    expect(nextStep(now, "CN", at("2024-07-10T00:00:00Z"))).toMatchObject({
      action: "blocked",
      at: null,
      text: "blocked (no enforcement date set)",
    });
  });
});

describe("buildNotices", () => {
  const org = '{"openai-organization":"org-1"}';
  const rows = [
    row("2024-07-02", "CN", "aaaa000000000001", org, { warn: 3 }),
    row("2024-07-01", "CN", "aaaa000000000001", org, { warn: 2, observe: 1 }),
    row("2024-07-05", "RU", "aaaa000000000001", org, { block: 4 }),
    row("2024-07-03", "CN", "aaaa000000000001", "{}", { warn: 1 }),
    row("2024-07-03", "VE", "9f86d081884c7d65", "{}", { exempt: 7 }),
  ];
  const now = at("2024-07-06T00:00:00Z");

  it("makes one notice per fingerprint and identity, regions in code order, days counted", () => {
    const notices = buildNotices(rows, policy, now);
    expect(notices.map((n) => [n.fingerprint, n.identity])).toEqual([
      ["9f86d081884c7d65", {}],
      // Canonical identity text order: `{"…` sorts before `{}`, as in the ledger.
      ["aaaa000000000001", { "openai-organization": "org-1" }],
      ["aaaa000000000001", {}],
    ]);
    const third = notices[1]!;
    expect(third).toMatchObject({
      firstDay: "2024-07-01",
      lastDay: "2024-07-05",
      requests: 10,
      nextDate: "2024-07-09",
      exemption: null,
    });
    expect(third.regions.map((r) => [r.region, r.name, r.firstDay, r.lastDay, r.days, r.requests])).toEqual([
      ["CN", "China", "2024-07-01", "2024-07-02", 2, 6],
      ["RU", "Russia", "2024-07-05", "2024-07-05", 1, 4],
    ]);
    expect(third.regions[0]!.decisions).toEqual(counts({ warn: 5, observe: 1 }));
    expect(notices[0]!.exemption).toEqual({ until: "2024-12-31T00:00:00.000Z" });
  });

  it("says 1 request, not 1 requests, and keeps dates readable while escaping inline Markdown", () => {
    expect(requestsText(1)).toBe("1 request");
    expect(requestsText(2)).toBe("2 requests");
    expect(mdText("blocked from 2024-07-09.")).toBe("blocked from 2024-07-09.");
    expect(mdText("[x](https://e.example) *b* `c` | <i>")).toBe(
      "\\[x\\]\\(https://e.example\\) \\*b\\* \\`c\\` \\| \\<i\\>",
    );
  });

  it("renders the default notice in the words a provider mails", () => {
    const [n] = buildNotices(rows.slice(0, 3), policy, now);
    const md = renderNotice(n!, {
      provider: "Example API",
      policyVersion: "2024-06-25.1",
      docsUrl: "https://example.com/supported-countries",
      from: "2024-07-01",
      to: "2024-07-31",
      generatedAt: "2024-07-06T00:00:00.000Z",
    });
    expect(md).toBe(`# Traffic from regions that Example API does not support

Customer: API key with fingerprint \`aaaa000000000001\`, openai-organization \`org-1\` (as claimed in request headers)

Our data shows that your organization has API traffic from a region that Example API does not currently support: China, Russia, between July 1, 2024 and July 5, 2024 (10 requests).

- Requests from China will be blocked starting on July 9, 2024.
- Requests from Russia will be blocked starting on July 9, 2024.

| Region | First day | Last day | Days | Requests | Blocked | What happens next |
|---|---|---|---:|---:|---:|---|
| China | 2024-07-01 | 2024-07-02 | 2 | 6 | 0 | blocked from 2024-07-09 |
| Russia | 2024-07-05 | 2024-07-05 | 1 | 4 | 4 | blocked from 2024-07-09 |

Supported regions: https://example.com/supported-countries

---
Key fingerprint \`aaaa000000000001\`: the first 16 hex characters of an HMAC of the API key; the key itself is never stored. Identity values are what the client sent in the identity headers; they are claims, not verified facts. Ledger data 2024-07-01 to 2024-07-31, policy 2024-06-25.1, generated 2024-07-06T00:00:00.000Z.
`);
  });

  it("fills a provider's own template, identity values by name", () => {
    const [n] = buildNotices(rows.slice(0, 3), policy, now);
    const ctx = { provider: "P", policyVersion: "v", docsUrl: null, from: null, to: null, generatedAt: "t" };
    expect(
      renderNotice(n!, ctx, "Hi {{ identity.openai-organization }}: {{region_codes}} by {{next_date}}."),
    ).toBe("Hi org-1: CN;RU by July 9, 2024.\n");
    expect(unknownPlaceholders("{{provider}} {{nope}} {{identity.x}} {{ table }}")).toEqual(["nope"]);
    expect(unknownPlaceholders(DEFAULT_TEMPLATE)).toEqual([]);
  });

  it("writes CSV one line per customer and region", () => {
    const csv = noticesCsv(buildNotices(rows.slice(0, 3), policy, now));
    expect(csv.split("\r\n")).toEqual([
      "fingerprint,claimed_identity,region,region_name,first_day,last_day,days,requests,observe,warn,block,monitor,exempt,next_action,next_at,next",
      "aaaa000000000001,openai-organization=org-1,CN,China,2024-07-01,2024-07-02,2,6,1,5,0,0,0,block,2024-07-09T00:00:00.000Z,blocked from 2024-07-09",
      "aaaa000000000001,openai-organization=org-1,RU,Russia,2024-07-05,2024-07-05,1,4,0,0,4,0,0,block,2024-07-09T00:00:00.000Z,blocked from 2024-07-09",
      "",
    ]);
  });

  it("escapes Markdown in claimed values", () => {
    const evil = '{"openai-organization":"[click](https://evil.example) `x`"}';
    const [n] = buildNotices([row("2024-07-01", "CN", "anonymous", evil, { warn: 1 })], policy, now);
    const md = renderNotice(n!, {
      provider: "P",
      policyVersion: "v",
      docsUrl: null,
      from: null,
      to: null,
      generatedAt: "t",
    });
    expect(md).toContain(
      "Customer: requests without an API key, openai-organization `[click](https://evil.example) 'x'`",
    );
  });

  it("mailDate writes days and off-midnight instants", () => {
    expect(mailDate("2024-07-09")).toBe("July 9, 2024");
    expect(mailDate("2024-07-09T14:30:00Z")).toBe("July 9, 2024 at 14:30 UTC");
  });
});
