// Enforces the one-way dependencies of design.md with dependency-cruiser: the rules live in
// .dependency-cruiser.cjs (also run by `npm run lint:deps`); this test fails on any violation
// and prints each one as `from -> to (rule)`.
import { describe, expect, it } from "vitest";
import path from "node:path";
import { cruise, type ICruiseResult } from "dependency-cruiser";
import extractDepcruiseOptions from "dependency-cruiser/config-utl/extract-depcruise-options";
import { repoRoot } from "../support/process.ts";

describe("module boundaries", () => {
  it("src, jobs and client-kit break no rule of .dependency-cruiser.cjs", async () => {
    const options = await extractDepcruiseOptions(path.join(repoRoot, ".dependency-cruiser.cjs"));
    const { output } = await cruise(["src", "jobs", "client-kit"], { ...options, baseDir: repoRoot });
    const result = output as ICruiseResult;
    // A cruise that found (almost) nothing would pass vacuously.
    expect(result.summary.totalCruised).toBeGreaterThan(100);
    const violations = result.summary.violations.map((v) => {
      const to = v.cycle ? v.cycle.map((c) => c.name).join(" -> ") : v.to;
      return `${v.from} -> ${to} (${v.rule.name})`;
    });
    expect(violations).toEqual([]);
  });
});
