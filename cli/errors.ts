/**
 * Exit codes of `region-gate` (documented in `region-gate --help` and docs/operations.md)
 * and the one error type commands throw. Every message says what went wrong and how to
 * fix it.
 */
export const EXIT = {
  ok: 0,
  /** The policy document is invalid (validate, push, diff, explain --policy). */
  invalid: 1,
  /** Wrong command line: unknown command or flag, missing argument, unreadable file. */
  usage: 2,
  /** The store failed: wrangler, the network, the admin API (401, 5xx). */
  backend: 3,
  /** The store refused the change: stale ETag (412), version clash (409), unknown version. */
  conflict: 4,
  /** The change was not confirmed (answered no, or no terminal and no --yes). */
  notConfirmed: 5,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export class CliError extends Error {
  constructor(
    readonly exitCode: ExitCode,
    message: string,
    /** Extra lines printed under the message (e.g. every validation problem). */
    readonly details: string[] = [],
  ) {
    super(message);
  }
}

export const usage = (message: string) => new CliError(EXIT.usage, message);
