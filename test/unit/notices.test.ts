import { describe, expect, it } from "vitest";
import { nextStep } from "../../src/control/notices/next-step";
import {
  DEFAULT_TEMPLATE,
  type NoticeContext,
  nextSentence,
  noticesCsv,
  renderNotice,
  unknownPlaceholders,
} from "../../src/control/notices/notice-render";
import { buildNotices, type NoticeRow } from "../../src/control/notices/notices";
import { daysText, mailDate, mdText, requestsText } from "../../src/control/notices/words";
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
  verified = true,
  networks: NoticeRow["networks"] = [],
): NoticeRow => ({ day, region, fingerprint, identity, decisions: counts(d), verified, networks });

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

const ctx: NoticeContext = {
  provider: "Example API",
  policyVersion: "2024-06-25.1",
  docsUrl: "https://example.com/supported-countries",
  checkUrl: "https://api.example.com/__region-gate/check",
  contact: null,
  from: null,
  to: null,
  generatedAt: "2024-07-06T00:00:00.000Z",
};
const ORG = "openai-organization";
const org = (v: string) => JSON.stringify({ [ORG]: v });

describe("buildNotices", () => {
  const rows = [
    row("2024-07-02", "CN", "aaaa000000000001", org("org-1"), { warn: 3 }),
    row("2024-07-01", "CN", "aaaa000000000001", org("org-1"), { warn: 2, observe: 1 }),
    row("2024-07-05", "RU", "aaaa000000000001", org("org-2"), { block: 4 }),
    row("2024-07-03", "CN", "aaaa000000000001", "{}", { warn: 1 }),
    row("2024-07-03", "VE", "9f86d081884c7d65", "{}", { exempt: 7 }),
  ];
  const now = at("2024-07-06T00:00:00Z");

  it("makes one notice per fingerprint, whatever identities it was seen with (issue 20, finding 4)", () => {
    const notices = buildNotices(rows, policy, now);
    expect(notices.map((n) => [n.fingerprint, n.identities])).toEqual([
      ["9f86d081884c7d65", []],
      ["aaaa000000000001", [{ [ORG]: "org-1" }, { [ORG]: "org-2" }]],
    ]);
    const mine = notices[1]!;
    expect(mine).toMatchObject({
      firstDay: "2024-07-01",
      lastDay: "2024-07-05",
      requests: 11,
      nextDate: "2024-07-09",
    });
    expect(mine.regions.map((r) => [r.region, r.name, r.dayList, r.requests])).toEqual([
      ["CN", "China", ["2024-07-01", "2024-07-02", "2024-07-03"], 7],
      ["RU", "Russia", ["2024-07-05"], 4],
    ]);
    expect(mine.regions[0]!.decisions).toEqual(counts({ warn: 6, observe: 1 }));
    expect(notices[0]!.exemption).toEqual({ until: "2024-12-31T00:00:00.000Z" });
  });

  it("makes none for anonymous, unverified, overflow or a key the origin never accepted there (finding 4)", () => {
    const buckets = ["anonymous", "unverified", "overflow", "unfingerprinted"].map((fp) =>
      row("2024-07-01", "CN", fp, "{}", { block: 5 }, false),
    );
    const legacy = row("2024-07-01", "CN", "bbbb000000000002", org("org-x"), { warn: 5 }, false);
    expect(buildNotices([...buckets, legacy], policy, now)).toEqual([]);
  });

  it("lists a region no longer restricted as such, and never makes a notice of it alone (finding 4)", () => {
    const nicaragua = row("2024-07-02", "NI", "cccc000000000003", "{}", { warn: 2 });
    const supportedAgain = compilePolicy(specPolicy({ supported: [...specPolicy().supported, "NI"] }));
    expect(buildNotices([nicaragua], supportedAgain, now)).toEqual([]);
    const [n] = buildNotices(
      [nicaragua, row("2024-07-02", "CN", "cccc000000000003", "{}", { warn: 1 })],
      supportedAgain,
      now,
    );
    expect(n!.regions.map((r) => r.region)).toEqual(["CN"]);
    expect(n!.unrestricted.map((r) => r.region)).toEqual(["NI"]);
    const md = renderNotice(n!, ctx);
    expect(md).toContain(
      "from a region that we do not currently support:\n\nChina: 1 request on July 2, 2024",
    );
    expect(md).toContain(
      "We also saw 2 requests from Nicaragua; it is no longer restricted, so nothing changes there.",
    );
    expect(md.match(/Nicaragua/g)).toHaveLength(1);
  });

  it("sums networks per region, the five busiest by number then other, classes from the policy", () => {
    const nets = (list: [number, number][]) =>
      list.map(([asn, requests]) => ({ asn, name: `N${asn}`, class: "", requests }));
    const cloud = compilePolicy(specPolicy());
    Object.assign(cloud, { asnClass: new Map([[16509, "cloud"]]) });
    const [n] = buildNotices(
      [
        row(
          "2024-07-01",
          "CN",
          "dddd000000000004",
          "{}",
          { warn: 30 },
          true,
          nets([
            [16509, 10],
            [1, 1],
            [2, 2],
          ]),
        ),
        row(
          "2024-07-02",
          "CN",
          "dddd000000000004",
          "{}",
          { warn: 5 },
          true,
          nets([
            [16509, 9],
            [3, 3],
            [4, 4],
            [5, 5],
            [0, 1],
          ]),
        ),
      ],
      cloud,
      now,
    );
    expect(n!.regions[0]!.networks.map((x) => [x.network, x.class, x.requests])).toEqual([
      ["AS16509", "cloud", 19],
      ["AS5", null, 5],
      ["AS4", null, 4],
      ["AS3", null, 3],
      ["AS2", null, 2],
      ["other", null, 2],
    ]);
    expect(n!.regions[0]!.cloudRequests).toBe(19);
  });
});

describe("the notice a customer reads", () => {
  const now = at("2024-07-06T00:00:00Z");
  const seen = [
    row("2024-07-01", "CN", "aaaa000000000001", org("org-acme"), { warn: 20 }, true, [
      { asn: 16509, name: "Amazon.com, Inc.", class: "cloud", requests: 18 },
      { asn: 4134, name: "Chinanet", class: "", requests: 2 },
    ]),
    row("2024-07-02", "CN", "aaaa000000000001", org("org-acme"), { warn: 4 }),
    row("2024-07-03", "CN", "aaaa000000000001", "{}", { warn: 1 }),
  ];

  it("greets, says what was seen, what happens next and what to do, in plain words (finding 4)", () => {
    const [n] = buildNotices(seen, policy, now);
    expect(renderNotice(n!, ctx)).toBe(`Hello,

We are writing about your API key with the fingerprint \`aaaa000000000001\`, used with openai-organization \`org-acme\`. From July 1 to July 3, 2024, Example API received 25 requests made with this key from a region that we do not currently support:

China: 25 requests from July 1 to July 3, 2024; all passed. Networks: AS16509 \`Amazon.com, Inc.\`, cloud (18); AS4134 \`Chinanet\` (2).

18 of the 25 requests from China came through a cloud provider's network (AS16509 \`Amazon.com, Inc.\`, cloud). That usually means the servers sending them run in a data centre in China: running them in a cloud region of a supported country ends this.

## What happens next

From July 9, 2024, requests from China will be refused.

## What you can do

- Send these requests from a supported region instead; the supported regions are listed at https://example.com/supported-countries.
- If you think this is a mistake, or you need more time, reply to this message.

Not sure which of your keys this is? Call our self-check with the key; it answers with the key's fingerprint and the traffic we recorded for it:

    curl -H "Authorization: Bearer YOUR_API_KEY" https://api.example.com/__region-gate/check

Thank you,
Example API
`);
  });

  it("uses no operator jargon and no backslash escapes in plain words (finding 4)", () => {
    const rows = [...seen, row("2024-07-04", "UA-43", "aaaa000000000001", "{}", { block: 1 })];
    const md = renderNotice(buildNotices(rows, policy, now)[0]!, ctx);
    for (const jargon of [
      "HMAC",
      "claim",
      "retention",
      "ledger",
      "policy",
      "EXPOSURE_",
      "2024-06-25.1",
      "fingerprinted",
      "overflow",
    ])
      expect(md).not.toContain(jargon);
    expect(md).not.toContain("\\");
    expect(md).toContain("The Crimea region of Ukraine (UA-43): 1 request on July 4, 2024; it was refused.");
    expect(md).toContain(
      "Requests from the Crimea region of Ukraine (UA-43) have been refused since March 1, 2022.",
    );
  });

  it("puts client-sent text only in code spans: identity placeholders escape like every value (finding 3)", () => {
    const hostile = "x' **URGENT**: your account is suspended, [verify now](https://evil.example/verify) 'y";
    const rows = [
      row(
        "2024-07-01",
        "CN",
        "eeee000000000005",
        JSON.stringify({ [ORG]: hostile, "openai-project": "_p_" }),
        { warn: 1 },
        true,
        [{ asn: 64500, name: "Evil `Net` [x](https://evil.example) <img src=x>", class: "", requests: 1 }],
      ),
    ];
    const [n] = buildNotices(rows, policy, now);
    expect(n!.identities).toEqual([{ [ORG]: "invalid", "openai-project": "_p_" }]);
    const template =
      "{{identity}} / {{identity.openai-organization}} / {{identity.openai-project}} / {{seen}} / {{provider}}";
    const md = renderNotice(n!, { ...ctx, provider: "*P* [x](y)" }, template);
    expect(md).not.toContain("URGENT");
    // Outside code spans nothing can make a link, an image, emphasis or HTML.
    const outside = md.replace(/`[^`]*`/g, "").replace(/\\./g, "");
    for (const markup of ["](", "<img", "**", "_p_"]) expect(outside).not.toContain(markup);
    expect(md).toContain("openai-project `_p_` / `invalid` / `_p_`");
    expect(md).toContain("AS64500 `Evil 'Net' [x](https://evil.example) <img src=x>`");
    expect(md).toContain("\\*P\\* \\[x\\](y)");
  });

  it("says the cloud paragraph of a single request in the singular", () => {
    const one = [
      row("2024-07-01", "BY", "aaaa000000000002", "{}", { warn: 1 }, true, [
        { asn: 16509, name: "Amazon.com, Inc.", class: "cloud", requests: 1 },
      ]),
    ];
    const text = renderNotice(buildNotices(one, policy, now)[0]!, ctx);
    expect(text).toContain(
      "The request from Belarus came through a cloud provider's network (AS16509 `Amazon.com, Inc.`, cloud). That usually means the server that sent it runs in a data centre in Belarus: running it in a cloud region of a supported country ends this.",
    );
    expect(text).not.toMatch(/sending them|running them/);
  });

  it("reads days as a person says them, and counts singular and plural", () => {
    expect(daysText(["2026-12-07"])).toBe("on December 7, 2026");
    expect(daysText(["2026-12-07", "2026-12-07"])).toBe("on December 7, 2026");
    expect(daysText(["2026-07-01", "2026-07-02", "2026-07-03"])).toBe("from July 1 to July 3, 2026");
    expect(daysText(["2026-12-30", "2026-12-31", "2027-01-01"])).toBe(
      "from December 30, 2026 to January 1, 2027",
    );
    expect(daysText(["2026-07-01", "2026-07-02", "2026-07-07"])).toBe("on July 1–2 and July 7, 2026");
    expect(daysText(["2026-06-30", "2026-07-01", "2026-07-09"])).toBe("on June 30–July 1 and July 9, 2026");
    expect(requestsText(1)).toBe("1 request");
    expect(requestsText(2)).toBe("2 requests");
    const one = buildNotices(
      [row("2026-12-07", "CN", "ffff000000000006", "{}", { block: 1 })],
      policy,
      at("2026-12-08T00:00:00Z"),
    );
    const md = renderNotice(one[0]!, ctx);
    expect(md).toContain("On December 7, 2026, Example API received 1 request made with this key");
    expect(md).toContain("China: 1 request on December 7, 2026; it was refused.");
    expect(md).not.toContain("between");
  });

  it("never contradicts an exemption or monitor mode", () => {
    const exempt = buildNotices(
      [row("2024-07-10", "CN", "9f86d081884c7d65", "{}", { exempt: 3 })],
      policy,
      at("2024-07-11T00:00:00Z"),
    );
    expect(nextSentence(exempt[0]!.regions[0]!, exempt[0]!)).toBe(
      "Requests from China have been refused since July 9, 2024. This key is exempt until December 31, 2024, so its requests pass until then.",
    );
    const monitored = compilePolicy(specPolicy({ mode: "monitor" }));
    const m = buildNotices(
      [row("2024-07-10", "CN", "abab000000000007", "{}", { monitor: 3 })],
      monitored,
      at("2024-07-11T00:00:00Z"),
    );
    expect(nextSentence(m[0]!.regions[0]!, m[0]!)).toBe(
      "Requests from China are due to be refused; for now they still pass.",
    );
  });

  it("fills a provider's own template; unknown placeholders are named", () => {
    const [n] = buildNotices(seen, policy, now);
    expect(
      renderNotice(
        n!,
        ctx,
        "Hi {{ identity.openai-organization }}: {{region_codes}} {{period}}, by {{next_date}}.",
      ),
    ).toBe("Hi `org-acme`: CN from July 1 to July 3, 2024, by July 9, 2024.\n");
    expect(unknownPlaceholders("{{provider}} {{nope}} {{identity.x}} {{ seen }}")).toEqual(["nope"]);
    expect(unknownPlaceholders(DEFAULT_TEMPLATE)).toEqual([]);
  });

  it("writes CSV one line per customer and region, restricted first", () => {
    const csv = noticesCsv(buildNotices(seen, policy, now));
    expect(csv.split("\r\n")).toEqual([
      "fingerprint,identities,region,region_name,restricted,first_day,last_day,days,requests,observe,warn,block,monitor,exempt,networks,capped_days,next_action,next_at,next",
      "aaaa000000000001,openai-organization=org-acme,CN,China,yes,2024-07-01,2024-07-03,3,25,0,25,0,0,0,AS16509=18;AS4134=2,,block,2024-07-09T00:00:00.000Z,blocked from 2024-07-09",
      "",
    ]);
  });

  it("mailDate writes days and off-midnight instants", () => {
    expect(mailDate("2024-07-09")).toBe("July 9, 2024");
    expect(mailDate("2024-07-09T14:30:00Z")).toBe("July 9, 2024 at 14:30 UTC");
    expect(mdText("blocked from 2024-07-09 (UA-43).")).toBe("blocked from 2024-07-09 (UA-43).");
  });
});
