import { describe, expect, it } from "vitest";
import { describeSeries, yAxis } from "../../../src/control/dashboard/chart";
import { byRegion, daysBetween } from "../../../src/control/dashboard/data";
import { timelineRows } from "../../../src/control/dashboard/views";
import { phaseAt, readableInstant } from "../../../src/control/ui/phase";
import { compilePolicy, windowOf } from "../../../src/policy/compile";
import { specPolicy } from "../../fixtures/policies";

const t = (s: string) => Date.parse(s);
const window = (warnFrom: string | null, blockFrom: string | null) =>
  windowOf(warnFrom === null ? null : t(warnFrom), blockFrom === null ? null : t(blockFrom), "test");

describe("enforcement phase", () => {
  it.each([
    ["2024-06-01T00:00:00Z", "observe", "blocks in 38 days (2024-07-09)"],
    ["2024-07-08T00:00:01Z", "warn", "blocks in 1 day (2024-07-09)"],
    ["2024-07-08T23:59:59.999Z", "warn", "blocks in 1 day (2024-07-09)"],
    ["2024-07-09T00:00:00Z", "block", "blocking since 2024-07-09"],
  ])("at %s the phase is %s: %s", (now, phase, summary) => {
    const p = phaseAt(window("2024-06-25T00:00:00Z", "2024-07-09T00:00:00Z"), t(now));
    expect(p).toMatchObject({ phase, summary });
  });

  it("never blocks a window without blockFrom, and says so", () => {
    const p = phaseAt(window("2024-08-01T00:00:00Z", null), t("2024-09-01T00:00:00Z"));
    expect(p).toMatchObject({ phase: "warn", blockFrom: null, blocksInDays: null, summary: "never blocks" });
  });

  it("reads a policy without enforcement dates as blocking always", () => {
    const policy = compilePolicy(specPolicy({ enforcement: undefined }));
    const p = phaseAt(policy.defaultWindow, Date.now());
    expect(p).toMatchObject({
      phase: "block",
      blockFrom: "always",
      summary: "blocking (no enforcement dates)",
    });
  });

  it("orders the timeline by block date, never last, default at the end, monitor mode named", () => {
    const policy = compilePolicy(specPolicy({ mode: "monitor" }));
    const rows = timelineRows(policy, t("2024-07-01T00:00:00Z"));
    expect(rows.map((r) => r.region)).toEqual(["UA-43", "RU", "VE", "every other unsupported country"]);
    expect(rows[0]).toMatchObject({ phase: "monitor", summary: "blocking since 2022-03-01" });
    expect(rows[2]).toMatchObject({ phase: "observe", summary: "never blocks", blockFrom: null });
  });

  it("prints midnight as a day and other instants to the second, in UTC", () => {
    expect(readableInstant("2024-07-09T00:00:00Z")).toBe("2024-07-09");
    expect(readableInstant("2024-07-09T14:30:12+02:00")).toBe("2024-07-09 12:30:12 UTC");
    expect(readableInstant(null)).toBe("—");
    expect(readableInstant("always")).toBe("always");
  });
});

describe("exposure series", () => {
  it("lays the ledger's summaries out per region and day, busiest region first", () => {
    const days = daysBetween("2024-07-08", "2024-07-10");
    expect(days).toEqual(["2024-07-08", "2024-07-09", "2024-07-10"]);
    const org = JSON.stringify({ "openai-organization": "o" });
    const [cn, ru] = byRegion(
      [
        {
          region: "CN",
          customers: 3,
          requests: 11,
          blocked: 11,
          firstDay: "2024-07-08",
          lastDay: "2024-07-10",
          cappedDays: 0,
        },
        {
          region: "RU",
          customers: 1,
          requests: 4,
          blocked: 4,
          firstDay: "2024-07-09",
          lastDay: "2024-07-09",
          cappedDays: 0,
        },
      ],
      [
        { region: "CN", day: "2024-07-08", customers: 2, requests: 6, blocked: 6 },
        { region: "CN", day: "2024-07-10", customers: 2, requests: 5, blocked: 5 },
        { region: "RU", day: "2024-07-09", customers: 1, requests: 4, blocked: 4 },
        { region: "RU", day: "2024-07-11", customers: 9, requests: 9, blocked: 9 }, // outside the days: ignored
      ],
      [
        {
          region: "CN",
          fingerprint: "aaaa",
          identity: org,
          requests: 8,
          blocked: 8,
          days: 2,
          lastDay: "2024-07-10",
        },
      ],
      days,
      [
        { region: "CN", asn: 16509, name: "Amazon.com", class: "cloud", requests: 7 },
        { region: "CN", asn: 0, name: "", class: "", requests: 4 },
      ],
    );
    expect(cn).toMatchObject({ region: "CN", requests: 11, customers: 3 });
    expect(cn?.networks).toEqual([
      { network: "AS16509", name: "Amazon.com", class: "cloud", requests: 7 },
      { network: "other", name: null, class: null, requests: 4 },
    ]);
    expect(ru?.networks).toEqual([]);
    expect(cn?.requestsPerDay).toEqual([6, 0, 5]);
    expect(cn?.customersPerDay).toEqual([2, 0, 2]);
    expect(cn?.top[0]).toMatchObject({
      fingerprint: "aaaa",
      identity: "openai-organization=o",
      requests: 8,
      days: 2,
      lastDay: "2024-07-10",
    });
    expect(ru?.customersPerDay).toEqual([0, 1, 0]);
  });

  it.each([
    [0, 1, 1],
    [1, 1, 1],
    [3, 3, 1],
    [5, 5, 1],
    [13, 15, 5],
    [99, 100, 20],
    [1000, 1000, 200],
    [1234, 1500, 500],
  ])("scales the y axis for a maximum of %i to %i in steps of %i", (max, top, step) => {
    expect(yAxis(max)).toEqual({ top, step });
  });

  it("describes a series in words for screen readers", () => {
    expect(describeSeries(["2024-07-08", "2024-07-09"], [3, 7], "requests")).toBe(
      "requests per day from 2024-07-08 to 2024-07-09: highest 7 on 2024-07-09, latest 7 on 2024-07-09.",
    );
    expect(describeSeries(["2024-07-08"], [0], "customers")).toBe(
      "No customers from 2024-07-08 to 2024-07-08.",
    );
  });
});
