/**
 * The worker's import graph (issue 10): nothing in src/ imports from outside src/ (the
 * CLI, scripts and tests depend on the worker's modules, never the other way round), and
 * no module of src/ reaches itself through its imports, type-only imports included. Read
 * from the source text: relative `import … from`, `export … from` and `import("…")`.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const SRC = resolve(import.meta.dirname, "..", "..", "src");
const IMPORT =
  /(?:^|\n)\s*(?:import|export)\s+(?:type\s+)?[^"';]*?from\s+["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/g;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return /\.tsx?$/.test(name) ? [path] : [];
  });
}

/** The file a relative specifier names, or null when it names none. */
function resolveSpecifier(from: string, specifier: string): string | null {
  const base = resolve(dirname(from), specifier);
  const candidates = [base, `${base}.ts`, `${base}.tsx`, join(base, "index.ts"), join(base, "index.tsx")];
  return candidates.find((c) => existsSync(c) && statSync(c).isFile()) ?? null;
}

const files = sourceFiles(SRC);
const outside: string[] = [];
const unresolved: string[] = [];
const graph = new Map<string, string[]>();
for (const file of files) {
  const deps: string[] = [];
  for (const m of readFileSync(file, "utf8").matchAll(IMPORT)) {
    const specifier = (m[1] ?? m[2])!;
    if (!specifier.startsWith(".")) continue;
    const target = resolveSpecifier(file, specifier);
    const where = `${relative(SRC, file)} → ${specifier}`;
    if (target === null) unresolved.push(where);
    else if (!target.startsWith(`${SRC}/`)) outside.push(where);
    else deps.push(target);
  }
  graph.set(file, deps);
}

/** Strongly connected components of more than one file, or a file importing itself (Tarjan). */
function cycles(): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string) => {
    index.set(v, next);
    low.set(v, next);
    next++;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(relative(SRC, w));
      } while (w !== v);
      if (component.length > 1 || graph.get(v)!.includes(v)) found.push(component);
    }
  };
  for (const file of files) if (!index.has(file)) visit(file);
  return found;
}

describe("src/ import graph", () => {
  it("reads the whole tree", () => {
    expect(files.length).toBeGreaterThan(50);
    expect([...graph.values()].flat().length).toBeGreaterThan(100);
    expect(unresolved).toEqual([]);
  });

  it("imports nothing from outside src/", () => {
    expect(outside).toEqual([]);
  });

  it("has no import cycle", () => {
    expect(cycles()).toEqual([]);
  });
});
