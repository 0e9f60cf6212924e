/**
 * The words notices are written in, as pure functions: dates and day ranges as a person
 * says them, lists, plurals, and the two ways a value enters Markdown (escaped text, or a
 * code span for client-sent text). Shared by the notices, the self-check page and the CLI.
 */

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

const dateOf = (text: string) => new Date(text.length === 10 ? `${text}T00:00:00Z` : text);

/** `July 9, 2024` (and `at 14:30 UTC` off midnight) from an RFC 3339 instant or a day. */
export function mailDate(text: string): string {
  const d = dateOf(text);
  if (!Number.isFinite(d.getTime())) return text;
  const day = `${MONTHS[d.getUTCMonth()]} ${d.getUTCDate()}, ${d.getUTCFullYear()}`;
  const time = d.toISOString().slice(11, 16);
  return time === "00:00" ? day : `${day} at ${time} UTC`;
}

/**
 * Days as a reader says them: `on July 9, 2026`, `from July 1 to July 9, 2026`, `from
 * December 30, 2026 to January 2, 2027`, and for days with gaps `on July 1–3 and July 7,
 * 2026`. `days` are `YYYY-MM-DD`, any order.
 */
export function daysText(days: readonly string[]): string {
  const sorted = [...new Set(days)].sort();
  if (sorted.length === 0) return "";
  const first = sorted[0]!;
  const last = sorted[sorted.length - 1]!;
  const runs: [string, string][] = [];
  for (const d of sorted) {
    const run = runs[runs.length - 1];
    if (run && dayAfter(run[1]) === d) run[1] = d;
    else runs.push([d, d]);
  }
  if (runs.length === 1) {
    if (first === last) return `on ${mailDate(first)}`;
    return `from ${spanStart(first, last)} to ${mailDate(last)}`;
  }
  if (runs.length > 4) return `on ${sorted.length} days from ${spanStart(first, last)} to ${mailDate(last)}`;
  const oneYear = first.slice(0, 4) === last.slice(0, 4);
  const parts = runs.map(([a, b]) => {
    const start = oneYear ? monthDay(a) : mailDate(a);
    if (a === b) return start;
    const end = oneYear
      ? a.slice(0, 7) === b.slice(0, 7)
        ? String(Number(b.slice(8)))
        : monthDay(b)
      : mailDate(b);
    return `${start}–${end}`;
  });
  return `on ${listText(parts)}${oneYear ? `, ${first.slice(0, 4)}` : ""}`;
}

const monthDay = (day: string) => `${MONTHS[Number(day.slice(5, 7)) - 1]} ${Number(day.slice(8))}`;
/** The first day of a span, without its year when the span ends in the same year. */
const spanStart = (first: string, last: string) =>
  first.slice(0, 4) === last.slice(0, 4) ? monthDay(first) : mailDate(first);

function dayAfter(day: string): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
}

/** `a`, `a and b`, `a, b and c`. */
export function listText(items: readonly string[]): string {
  if (items.length <= 1) return items[0] ?? "";
  return `${items.slice(0, -1).join(", ")} and ${items[items.length - 1]}`;
}

/**
 * Markdown text with the characters that act inline escaped (emphasis, code, links, HTML,
 * tables). Parentheses, `#`, `+`, `-`, `.` and `!` are left alone: without `[` and `]` they
 * make no link, and mid-sentence no heading or list, so `Ukraine (UA-43)` and dates stay
 * as they read in plain text.
 */
export function mdText(s: string): string {
  return s.replace(/[\\`*_{}[\]<>|~]/g, (c) => `\\${c}`);
}

/**
 * A code span of client-sent text: backticks dropped (identity values cannot hold one;
 * network names might), so the span cannot be closed early and nothing in it renders.
 */
export function codeSpan(s: string): string {
  const text = s.replaceAll("`", "'").replace(/[\r\n]/g, " ");
  return `\`${text.startsWith(" ") || text.endsWith(" ") ? ` ${text} ` : text}\``;
}

/** `1 request`, `5 requests`. */
export function requestsText(n: number): string {
  return `${n} ${n === 1 ? "request" : "requests"}`;
}

/** `China` from `china`: the first letter upper case. */
export const capitalised = (s: string) => (s ? `${s[0]!.toUpperCase()}${s.slice(1)}` : s);
