/**
 * The gate's log lines (src/log.ts) during one test, for the tests that expect some: they
 * assert on them instead of letting them scroll past in `npm test`. Captured lines are not
 * printed; the capture ends with the test.
 */
import { onTestFinished, vi } from "vitest";

export interface LogEvent {
  level: string;
  event: string;
  [field: string]: unknown;
}

export interface CapturedLogs {
  /** Every line as written. */
  lines: string[];
  /** The JSON lines, parsed (a line that is not JSON fails the test: the gate logs JSON only). */
  events(): LogEvent[];
}

/** Captures console.log/warn/error until the current test ends. */
export function captureLogs(): CapturedLogs {
  const lines: string[] = [];
  for (const method of ["log", "warn", "error"] as const) {
    const spy = vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
      lines.push(args.map(String).join(" "));
    });
    onTestFinished(() => spy.mockRestore());
  }
  return { lines, events: () => lines.map((l) => JSON.parse(l) as LogEvent) };
}
