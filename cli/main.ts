/**
 * `region-gate <object> <verb>`: operate the gate's policy from a terminal or a script.
 * The commands use the worker's own schema, compiler, decision and history code.
 */
import { createInterface } from "node:readline/promises";
import { type Command, commandHelp, parseFor } from "./command";
import { explain } from "./commands/explain";
import { exposure } from "./commands/exposure";
import { key } from "./commands/key";
import { notices } from "./commands/notices";
import { diff, history, push, rollback, show, validate } from "./commands/policy";
import { CliError, EXIT, usage } from "./errors";
import type { CliIO } from "./io";

const COMMANDS: Command[] = [validate, push, show, diff, history, rollback, explain, exposure, notices, key];

const HELP = `Usage: region-gate <object> <verb> [arguments] [options]

Commands:
${COMMANDS.map((c) => `  ${`${c.name}${c.args.map((a) => ` ${a}`).join("")}`.padEnd(26)}${c.brief}`).join("\n")}

\`region-gate <command> --help\` describes a command and its options.

Policy commands write through wrangler to the KV namespace POLICY (--local for the dev
store), or, with --url and --token (env REGION_GATE_URL, REGION_GATE_TOKEN), through a
deployed gate's admin API.

Exit codes:
  0  done (also: nothing to change)
  1  the policy is invalid (every problem is printed, path first)
  2  wrong command line: unknown command or option, missing argument, unreadable file
  3  the store failed: wrangler, network, or the admin API (token refused, 5xx)
  4  the store refused or lacks it: active policy changed meanwhile (412), version reused
     with other content (409), unknown version, no active policy
  5  not confirmed (answered no, or no terminal and no --yes)
`;

function find(argv: string[]): { command: Command; rest: string[] } | null {
  for (const c of COMMANDS) {
    const words = c.name.split(" ");
    if (words.every((w, i) => argv[i] === w)) return { command: c, rest: argv.slice(words.length) };
  }
  return null;
}

/** Runs one command line; returns the exit code. Never throws. */
export async function runCli(argv: string[], io: CliIO): Promise<number> {
  try {
    if (argv.length === 0 || argv[0] === "--help" || argv[0] === "-h" || argv[0] === "help") {
      io.out(HELP);
      return argv.length === 0 ? EXIT.usage : EXIT.ok;
    }
    const found = find(argv);
    if (found === null) {
      const object = COMMANDS.filter((c) => c.name.startsWith(`${argv[0]} `) || c.name === argv[0]);
      if (object.length > 0 && (argv[1] === undefined || argv[1] === "--help" || argv[1] === "-h")) {
        io.out(
          `Commands for ${argv[0]}:\n${object.map((c) => `  region-gate ${c.name}${c.args.map((a) => ` ${a}`).join("")}`).join("\n")}\n`,
        );
        return argv[1] === undefined ? EXIT.usage : EXIT.ok;
      }
      const attempted = argv
        .slice(0, 2)
        .filter((a) => !a.startsWith("-"))
        .join(" ");
      throw usage(`unknown command \`${attempted}\`; run \`region-gate --help\` for the list`);
    }
    const { values, args, help } = parseFor(found.command, found.rest);
    if (help) {
      io.out(commandHelp(found.command));
      return EXIT.ok;
    }
    return await found.command.run(io, values, args);
  } catch (e) {
    if (e instanceof CliError) {
      io.err(`region-gate: ${e.message}\n${e.details.map((d) => `${d}\n`).join("")}`);
      return e.exitCode;
    }
    io.err(
      `region-gate: unexpected error: ${(e as Error).stack ?? String(e)}\nPlease report it with the command line you ran.\n`,
    );
    return EXIT.backend;
  }
}

/** The process's IO. */
export function processIO(): CliIO {
  return {
    out: (t) => process.stdout.write(t),
    err: (t) => process.stderr.write(t),
    env: process.env,
    cwd: process.cwd(),
    async readStdin() {
      if (process.stdin.isTTY) process.stderr.write("(reading the key from stdin; end with Ctrl-D)\n");
      let text = "";
      for await (const chunk of process.stdin) text += chunk;
      return text;
    },
    async confirm(question) {
      if (!process.stdin.isTTY || !process.stderr.isTTY) return null;
      const rl = createInterface({ input: process.stdin, output: process.stderr });
      try {
        return /^y(es)?$/i.test((await rl.question(question)).trim());
      } finally {
        rl.close();
      }
    },
  };
}

/** Entry of bin/region-gate.mjs. */
export async function main(): Promise<void> {
  process.exitCode = await runCli(process.argv.slice(2), processIO());
}
