/**
 * The docs say what the code does: README's curl lines are the ones `npm start` prints,
 * links stay inside the repository, wrangler.toml names real README sections, and the
 * fingerprint in the operations walkthrough is what the gate records for that token.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { curlLines } from "../../scripts/curl-lines.mjs";
import { fingerprint } from "../../src/platform/fingerprint";

const ROOT = join(import.meta.dirname, "..", "..");
const read = (path: string) => readFileSync(join(ROOT, path), "utf8");
const readme = read("README.md");
const operations = read("docs/operations.md");
const devScript = read("scripts/dev.mjs");

/** GitHub's anchor of a Markdown heading. */
const anchor = (heading: string) =>
  heading
    .toLowerCase()
    .replace(/[^\w\- ]/g, "")
    .replace(/ /g, "-");

describe("README and docs", () => {
  it("README shows exactly the curl lines npm start prints, and counts them right", () => {
    const lines = curlLines("http://127.0.0.1:8787");
    expect(readme).toContain(`\`\`\`sh\n${lines}\n\`\`\``);
    const count = lines.split("\n").filter((l) => l.startsWith("curl ")).length;
    expect(count).toBe(6);
    expect(readme).toContain("`npm start` prints six curl lines");
  });

  it("every curl line against wrangler dev asks for --compressed", () => {
    for (const doc of [readme, read("docs/local-dev.md"), operations]) {
      for (const line of doc.split("\n").filter((l) => /curl .*127\.0\.0\.1:8787/.test(l))) {
        expect(line).toContain("--compressed");
      }
    }
  });

  it("no link points outside the repository; the contract is docs/spec.md", () => {
    for (const path of [
      "README.md",
      "SECURITY.md",
      "wrangler.toml",
      "docs/operations.md",
      "docs/local-dev.md",
    ]) {
      expect(read(path), path).not.toMatch(/\.\.\/shared|shared\/SPEC/);
    }
    expect(read("docs/spec.md")).toContain("## 2. The policy document (schema 1)");
    for (const [, target, hash] of readme.matchAll(/\]\((docs\/spec\.md)(?:#([\w-]+))?\)/g)) {
      if (hash) {
        const headings = [...read(target!).matchAll(/^#+ (.+)$/gm)].map((m) => anchor(m[1]!));
        expect(headings).toContain(hash);
      }
    }
  });

  it("README sections that the two wrangler configs name exist", () => {
    const configs = read("wrangler.toml") + read("wrangler.control.toml");
    const named = [...configs.matchAll(/README "([^"]+)"/g)].map((m) => m[1]);
    expect(named.length).toBeGreaterThan(0);
    const headings = [...readme.matchAll(/^## (.+)$/gm)].map((m) => m[1]);
    for (const name of named) expect(headings).toContain(name);
  });

  it("the walkthrough uses npm start's token, long enough for the admin API, and history shows it as `token`", async () => {
    const [, token] = /REGION_GATE_TOKEN=(\S+)/.exec(operations)!;
    const [, written] = /writeFileSync\(devVarsFile, "([^"]+)"\)/.exec(devScript)!;
    const vars = Object.fromEntries(
      written!
        .split("\\n")
        .filter(Boolean)
        .map((l) => l.split("=")),
    );
    expect(vars.ADMIN_TOKEN).toBe(token);
    expect(token!.length).toBeGreaterThanOrEqual(32);
    // SPEC section 7: a token actor is recorded as `token`, never as a hash of the token.
    expect(operations).not.toMatch(/\badmin:[0-9a-f]{16}\b/);
    expect(operations).not.toContain(await fingerprint(vars.IDENTITY_SALT!, token!));
    expect(operations).toMatch(/ {2}token {2}push /);
  });
});
