// Enforces the one-way dependencies of design.md: `domain` imports nothing of
// ours, `client-kit` imports nothing from `src`, and nothing imports in a cycle.
import { describe, expect, it } from "vitest";
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { repoRoot } from "../support/process.ts";

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) return name === "generated" ? [] : sourceFiles(p);
    return p.endsWith(".ts") ? [p] : [];
  });
}

function relativeImports(file: string): string[] {
  const src = readFileSync(file, "utf8");
  const specs = [...src.matchAll(/(?:^|\n)\s*(?:import|export)[^"'`;]*?from\s+["']([^"']+)["']/g)].map((m) => m[1]!);
  return specs.filter((s) => s.startsWith(".")).map((s) => path.resolve(path.dirname(file), s));
}

const files = ["src", "jobs", "client-kit"].flatMap((d) => sourceFiles(path.join(repoRoot, d)));
const rel = (p: string) => path.relative(repoRoot, p);

describe("module boundaries", () => {
  it("src/domain imports nothing of ours outside src/domain and client-kit", () => {
    const bad = files
      .filter((f) => rel(f).startsWith("src/domain/"))
      .flatMap((f) => relativeImports(f).filter((i) => !rel(i).startsWith("src/domain/") && !rel(i).startsWith("client-kit/")).map((i) => `${rel(f)} -> ${rel(i)}`));
    expect(bad).toEqual([]);
  });

  it("client-kit imports nothing from src or jobs", () => {
    const bad = files
      .filter((f) => rel(f).startsWith("client-kit/"))
      .flatMap((f) => relativeImports(f).filter((i) => !rel(i).startsWith("client-kit/")).map((i) => `${rel(f)} -> ${rel(i)}`));
    expect(bad).toEqual([]);
  });

  it("has no import cycles", () => {
    const graph = new Map(files.map((f) => [f, relativeImports(f).filter((i) => files.includes(i))]));
    const cycles: string[] = [];
    const state = new Map<string, "visiting" | "done">();
    const stack: string[] = [];
    const visit = (f: string) => {
      if (state.get(f) === "done") return;
      if (state.get(f) === "visiting") {
        cycles.push([...stack.slice(stack.indexOf(f)), f].map(rel).join(" -> "));
        return;
      }
      state.set(f, "visiting");
      stack.push(f);
      for (const dep of graph.get(f) ?? []) visit(dep);
      stack.pop();
      state.set(f, "done");
    };
    for (const f of files) visit(f);
    expect(cycles).toEqual([]);
  });
});
