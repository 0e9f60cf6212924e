/**
 * `region-gate key fingerprint`: the fingerprint the gate records for an API key, for
 * exemptions and for reading the exposure ledger. Keys come on stdin, never argv (argv
 * shows up in `ps` and shell history). With `--csv`, many keys at once (`id,key` lines →
 * `id,fingerprint` lines), so a provider joins the ledger to its own customer records
 * without sending keys anywhere.
 */

import { csvField } from "../../src/control/ledger/csv";
import { fingerprint } from "../../src/platform/fingerprint";
import { command } from "../command";
import { CliError, EXIT, usage } from "../errors";

/** One `id,key` line: the id may be a quoted CSV field; the key is the rest of the line. */
function parseLine(line: string): { id: string; key: string } | { error: string } {
  let id: string;
  let rest: string;
  if (line.startsWith('"')) {
    const m = /^"((?:[^"]|"")*)",(.*)$/s.exec(line);
    if (!m) return { error: 'the quoted id is not closed by `",`; write "id with, comma",key' };
    id = m[1]!.replaceAll('""', '"');
    rest = m[2]!;
  } else {
    const comma = line.indexOf(",");
    if (comma < 0) return { error: "no comma; each line is id,key" };
    id = line.slice(0, comma);
    rest = line.slice(comma + 1);
  }
  if (id === "") return { error: "the id is empty; each line is id,key" };
  if (rest === "") return { error: "the key is empty; each line is id,key" };
  // Never quote the key back: the message names what is wrong, not the value.
  if (/\s/.test(rest)) return { error: "the key contains whitespace (a bearer token has none)" };
  return { id, key: rest };
}

async function csvMode(salt: string, input: string): Promise<string> {
  const lines = input.split(/\r?\n/);
  if (lines[lines.length - 1] === "") lines.pop();
  const problems: string[] = [];
  const pairs: { id: string; key: string }[] = [];
  lines.forEach((line, i) => {
    if (line === "" || (i === 0 && /^id,key$/i.test(line))) return;
    const parsed = parseLine(line);
    if ("error" in parsed) problems.push(`  line ${i + 1}: ${parsed.error}`);
    else pairs.push(parsed);
  });
  if (problems.length > 0) {
    throw new CliError(
      EXIT.usage,
      `${problems.length} line${problems.length === 1 ? "" : "s"} of stdin ${problems.length === 1 ? "is" : "are"} not id,key; nothing was written, fix ${problems.length === 1 ? "it" : "them"} and rerun:`,
      problems,
    );
  }
  if (pairs.length === 0)
    throw usage("no id,key lines on stdin; pipe a CSV in, e.g. region-gate key fingerprint --csv < keys.csv");
  let out = "id,fingerprint\n";
  for (const { id, key } of pairs) out += `${csvField(id)},${await fingerprint(salt, key)}\n`;
  return out;
}

export const key = command({
  name: "key fingerprint",
  brief: "fingerprint of an API key read on stdin (--csv: many)",
  summary:
    "Reads an API key on stdin and prints its fingerprint: the first 16 hex characters of HMAC-SHA256(IDENTITY_SALT, key), as the gate records it. With --csv, reads id,key lines and writes id,fingerprint lines.",
  args: [],
  options: { "salt-env": { type: "string" }, csv: { type: "boolean" } },
  help: `Options:
  --csv                read \`id,key\` lines (an \`id,key\` header line is skipped; ids may be
                       quoted CSV fields) and write \`id,fingerprint\` lines with a header
  --salt-env NAME      read the salt from environment variable NAME (default IDENTITY_SALT)

Examples:
  printf %s "$API_KEY" | IDENTITY_SALT=... npx --no-install region-gate key fingerprint
  IDENTITY_SALT=... npx --no-install region-gate key fingerprint --csv < customers-keys.csv > fingerprints.csv`,
  async run(io, values) {
    const name = values["salt-env"] ?? "IDENTITY_SALT";
    const salt = io.env[name];
    if (!salt) {
      throw usage(
        `${name} is not set; export the gate's IDENTITY_SALT secret value as ${name} (or name another variable with --salt-env)`,
      );
    }
    const stdin = await io.readStdin();
    if (values.csv) {
      io.out(await csvMode(salt, stdin));
      return EXIT.ok;
    }
    const input = stdin.replace(/\r?\n$/, "");
    if (input === "")
      throw usage('no key on stdin; pipe it in, e.g. printf %s "$API_KEY" | region-gate key fingerprint');
    if (/\s/.test(input)) {
      throw usage(
        'the key on stdin contains whitespace; send only the key (the gate fingerprints the bearer token, without "Bearer "), or use --csv for id,key lines',
      );
    }
    io.out(`${await fingerprint(salt, input)}\n`);
    return EXIT.ok;
  },
});
