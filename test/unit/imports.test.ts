/**
 * The Workers' import graph: nothing in src/ imports from outside src/ (the CLI, scripts
 * and tests depend on the Workers' modules, never the other way round); no module of src/
 * reaches itself through its imports, type-only imports included; the layers of src/
 * (README "Layout") are imported downwards only; and the data plane's entry reaches no
 * module of the control plane and no package but valibot (SPEC section 1). Read from the
 * source text: `import … from`, `export … from` and `import("…")`.
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
/** Each file's package imports (`hono`, `jose/jwt/verify`, `cloudflare:workers`, ...). */
const packages = new Map<string, string[]>();
for (const file of files) {
  const deps: string[] = [];
  const bare: string[] = [];
  packages.set(file, bare);
  for (const m of readFileSync(file, "utf8").matchAll(IMPORT)) {
    const specifier = (m[1] ?? m[2])!;
    if (!specifier.startsWith(".")) {
      bare.push(specifier);
      continue;
    }
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

/**
 * The layers of src/, lowest first. A module imports from its own folder or from a folder
 * of a lower layer; folders of one layer never import each other (the gate and the control
 * plane share only what lies below them).
 */
const LAYERS = [["platform"], ["policy"], ["store", "exposure"], ["gate", "control"]];

/** The top folder of src/ a file is in ("gate", "policy", ...); "" for a file at the root. */
const folderOf = (file: string) => {
  const parts = relative(SRC, file).split("/");
  return parts.length > 1 ? parts[0]! : "";
};

/** `from → to` for every import that is not downwards (or within a folder) in `layers`. */
function layerViolations(edges: Map<string, string[]>, layers: string[][]): string[] {
  const rank = (folder: string) => layers.findIndex((l) => l.includes(folder));
  const bad: string[] = [];
  for (const [from, deps] of edges) {
    for (const to of deps) {
      const a = folderOf(from);
      const b = folderOf(to);
      if (a === b) continue;
      if (rank(a) < 0 || rank(b) < 0 || rank(b) >= rank(a))
        bad.push(`${relative(SRC, from)} → ${relative(SRC, to)}`);
    }
  }
  return bad;
}

/** Every file `entry` reaches through its imports, itself included. */
function reach(edges: Map<string, string[]>, entry: string): Set<string> {
  const seen = new Set<string>([entry]);
  const todo = [entry];
  while (todo.length > 0) {
    for (const next of edges.get(todo.pop()!) ?? []) {
      if (!seen.has(next)) {
        seen.add(next);
        todo.push(next);
      }
    }
  }
  return seen;
}

const GATE_ENTRY = join(SRC, "gate", "index.ts");
const CONTROL_ENTRY = join(SRC, "control", "index.ts");

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
  it("imports only downwards through the layers, and no file sits at the root of src/", () => {
    expect(files.filter((f) => folderOf(f) === "").map((f) => relative(SRC, f))).toEqual([]);
    expect(layerViolations(graph, LAYERS)).toEqual([]);
  });

  it("keeps every control-plane module and package out of the data plane's bundle", () => {
    const reached = [...reach(graph, GATE_ENTRY)];
    expect(reached.length).toBeGreaterThan(10);
    expect(reached.filter((f) => folderOf(f) === "control").map((f) => relative(SRC, f))).toEqual([]);
    const used = new Set(reached.flatMap((f) => packages.get(f) ?? []));
    expect([...used].filter((p) => p !== "valibot")).toEqual([]);
    // The control plane does reach its packages: the check above would see them.
    const control = new Set([...reach(graph, CONTROL_ENTRY)].flatMap((f) => packages.get(f) ?? []));
    expect([...control]).toEqual(expect.arrayContaining(["hono", "valibot"]));
  });
});

describe("the layer and reach checks catch what they are for", () => {
  const at = (path: string) => join(SRC, path);
  it("flags an import upwards, between the two planes, and into an unknown folder", () => {
    const edges = new Map([
      [at("policy/decision.ts"), [at("store/store.ts"), at("platform/log.ts")]],
      [at("gate/handler.ts"), [at("control/app.ts"), at("policy/decision.ts")]],
      [at("store/store.ts"), [at("exposure/model.ts"), at("misc/x.ts")]],
    ]);
    expect(layerViolations(edges, LAYERS)).toEqual([
      "policy/decision.ts → store/store.ts",
      "gate/handler.ts → control/app.ts",
      "store/store.ts → exposure/model.ts",
      "store/store.ts → misc/x.ts",
    ]);
  });

  it("follows imports through any depth", () => {
    const edges = new Map([
      [at("gate/index.ts"), [at("store/store.ts")]],
      [at("store/store.ts"), [at("policy/parse.ts")]],
      [at("policy/parse.ts"), [at("control/app.ts")]],
    ]);
    expect(reach(edges, at("gate/index.ts")).has(at("control/app.ts"))).toBe(true);
  });
});
