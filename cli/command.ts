/**
 * A command of `region-gate <object> <verb>`: its options (node:util parseArgs), its
 * help text and its run function. Parsing errors become usage errors (exit 2) that point
 * at `--help`.
 */
import { type ParseArgsConfig, parseArgs } from "node:util";
import { usage } from "./errors";
import type { CliIO } from "./io";

export type Options = NonNullable<ParseArgsConfig["options"]>;

type Values<O extends Options> = { [K in keyof O]?: O[K]["type"] extends "boolean" ? boolean : string };

/** A command as declared, its option values typed from its options. */
export interface CommandSpec<O extends Options> {
  /** `policy push`, `explain`, ... */
  name: string;
  /** One line for the command list of `region-gate --help`. */
  brief: string;
  summary: string;
  /** Positional arguments, all required, e.g. `["FILE"]`. */
  args: string[];
  options: O;
  /** The options section of `--help`. */
  help: string;
  run(io: CliIO, values: Values<O>, args: string[]): Promise<number>;
}

/** A command as the dispatcher sees it. */
export type Command = Omit<CommandSpec<Options>, "run"> & {
  run(io: CliIO, values: Record<string, string | boolean | undefined>, args: string[]): Promise<number>;
};

/** Declares a command with its option types inferred. */
export const command = <O extends Options>(c: CommandSpec<O>): Command => c as unknown as Command;

/** The full help of one command. */
export function commandHelp(c: Command): string {
  const args = c.args.map((a) => ` ${a}`).join("");
  return `Usage: region-gate ${c.name}${args} [options]\n\n${c.summary}\n\n${c.help}\n  -h, --help           this help\n`;
}

/** Parses `argv` for `c`; unknown flags and missing arguments are usage errors. */
export function parseFor(c: Command, argv: string[]) {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: argv,
      options: { ...c.options, help: { type: "boolean", short: "h" } },
      allowPositionals: true,
      strict: true,
    });
  } catch (e) {
    throw usage(`${(e as Error).message.split(/\n|\. To specify/)[0]}; see \`region-gate ${c.name} --help\``);
  }
  const help = parsed.values.help === true;
  if (!help && parsed.positionals.length !== c.args.length) {
    const want = c.args.length === 0 ? "no arguments" : c.args.join(" ");
    const got =
      parsed.positionals.length === 0 ? "none" : parsed.positionals.map((p) => JSON.stringify(p)).join(" ");
    throw usage(`\`region-gate ${c.name}\` takes ${want}, got ${got}; see \`region-gate ${c.name} --help\``);
  }
  return {
    values: parsed.values as Record<string, string | boolean | undefined>,
    args: parsed.positionals,
    help,
  };
}
