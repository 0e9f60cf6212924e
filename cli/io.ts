/**
 * What a command may touch: output streams, environment, working directory, stdin and
 * the confirmation prompt. The binary wires them to the process; tests pass their own.
 */
import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { parseJsonStrict } from "../src/policy/json";
import type { PolicyDocument } from "../src/policy/schema";
import { validatePolicy } from "../src/policy/schema";
import { CliError, EXIT, usage } from "./errors";

export interface CliIO {
  out(text: string): void;
  err(text: string): void;
  env: Record<string, string | undefined>;
  cwd: string;
  /** All of stdin as text. */
  readStdin(): Promise<string>;
  /** Asks a yes/no question; null when there is no terminal to ask on. */
  confirm(question: string): Promise<boolean | null>;
}

/** Reads a file given on the command line, with an error that names it. */
export async function readInputFile(io: CliIO, file: string): Promise<string> {
  try {
    return await readFile(resolve(io.cwd, file), "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why =
      code === "ENOENT" ? "no such file" : code === "EISDIR" ? "it is a directory" : (e as Error).message;
    throw usage(`cannot read ${file}: ${why}; give the path of a policy JSON file`);
  }
}

/** Formats validation problems path first, one per line. */
export const problemLines = (errors: Array<{ path: string; message: string }>) =>
  errors.map((e) => `  ${e.path}: ${e.message}`);

/** Parses and validates a policy file; exit 1 with every problem when it is invalid. */
export async function loadPolicyFile(io: CliIO, file: string): Promise<PolicyDocument> {
  const text = await readInputFile(io, file);
  // Strict like the admin API: duplicate keys, `__proto__` and hostile nesting are refused.
  const parsed = parseJsonStrict(text);
  if (!parsed.ok) {
    const [first] = parsed.errors;
    if (parsed.errors.length === 1 && first?.path === "$" && first.message.startsWith("not valid JSON")) {
      throw new CliError(EXIT.invalid, `${file} is ${first.message}; fix the syntax and retry`);
    }
    throw new CliError(
      EXIT.invalid,
      `${file} is not a valid policy (${parsed.errors.length} problem${parsed.errors.length === 1 ? "" : "s"}); nothing was changed:`,
      problemLines(parsed.errors),
    );
  }
  const result = validatePolicy(parsed.value);
  if (!result.ok) {
    throw new CliError(
      EXIT.invalid,
      `${file} is not a valid policy (${result.errors.length} problem${result.errors.length === 1 ? "" : "s"}); nothing was changed:`,
      problemLines(result.errors),
    );
  }
  return result.policy;
}

/** Asks before a change unless `--yes`; exit 5 when not confirmed. */
export async function confirmOrStop(io: CliIO, yes: boolean, question: string): Promise<void> {
  if (yes) return;
  const answer = await io.confirm(`${question} [y/N] `);
  if (answer === true) return;
  throw new CliError(
    EXIT.notConfirmed,
    answer === null
      ? "not confirmed: there is no terminal to ask on; review the diff above and pass --yes to apply it"
      : "not confirmed; nothing was changed",
  );
}
