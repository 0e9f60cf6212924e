/**
 * `region-gate key fingerprint`: the fingerprint the gate records for an API key, for
 * exemptions and for reading the exposure ledger. The key comes on stdin, never argv
 * (argv shows up in `ps` and shell history).
 */
import { fingerprint } from "../../src/fingerprint";
import { command } from "../command";
import { EXIT, usage } from "../errors";

export const key = command({
  name: "key fingerprint",
  brief: "fingerprint of an API key read on stdin",
  summary:
    "Reads an API key on stdin and prints its fingerprint: the first 16 hex characters of HMAC-SHA256(IDENTITY_SALT, key), as the gate records it.",
  args: [],
  options: { "salt-env": { type: "string" } },
  help: `Options:
  --salt-env NAME      read the salt from environment variable NAME (default IDENTITY_SALT)

Example: printf %s "$API_KEY" | IDENTITY_SALT=... npx region-gate key fingerprint`,
  async run(io, values) {
    const name = values["salt-env"] ?? "IDENTITY_SALT";
    const salt = io.env[name];
    if (!salt) {
      throw usage(
        `${name} is not set; export the gate's IDENTITY_SALT secret value as ${name} (or name another variable with --salt-env)`,
      );
    }
    const input = (await io.readStdin()).replace(/\r?\n$/, "");
    if (input === "")
      throw usage('no key on stdin; pipe it in, e.g. printf %s "$API_KEY" | region-gate key fingerprint');
    if (/\s/.test(input)) {
      throw usage(
        'the key on stdin contains whitespace; send only the key (the gate fingerprints the bearer token, without "Bearer ")',
      );
    }
    io.out(`${await fingerprint(salt, input)}\n`);
    return EXIT.ok;
  },
});
