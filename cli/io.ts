/**
 * What a command may touch: output streams, environment, working directory, stdin and
 * the confirmation prompt. The binary wires them to the process; tests pass their own.
 */
import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { type PolicyTextStage, parsePolicy } from "../src/policy/parse";
import type { PolicyDocument, PolicyProblem } from "../src/policy/schema";
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

/**
 * Formats problems path first, one per line; a JSON syntax error also shows its line with
 * a caret under the error.
 */
export const problemLines = (errors: PolicyProblem[]) =>
  errors.flatMap((e) => [
    `  ${e.path}: ${e.message}`,
    ...(e.excerpt ? e.excerpt.split("\n").map((l) => `    ${l}`) : []),
  ]);

/** The CLI error for a policy text `parsePolicy` refused, naming where the text came from. */
export function refusedPolicy(where: string, result: { stage: PolicyTextStage; errors: PolicyProblem[] }) {
  const [first] = result.errors;
  if (result.stage === "syntax" && first) {
    const excerpt = first.excerpt ? first.excerpt.split("\n").map((l) => `    ${l}`) : [];
    return new CliError(EXIT.invalid, `${where} is ${first.message}; fix the syntax and retry`, excerpt);
  }
  const n = result.errors.length;
  return new CliError(
    EXIT.invalid,
    `${where} is not a valid policy (${n} problem${n === 1 ? "" : "s"}); nothing was changed:`,
    problemLines(result.errors),
  );
}

/**
 * Reads, parses and validates a policy file with `parsePolicy`, the gate's own reader;
 * exit 1 with every problem when it is invalid.
 */
export async function loadPolicyFile(io: CliIO, file: string): Promise<PolicyDocument> {
  const result = parsePolicy(await readInputFile(io, file));
  if (!result.ok) throw refusedPolicy(file, result);
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
