import { describe, expect, it } from "vitest";
import { normalizeSummary, normalizeTitle, regenerateTitlePrompt, selectTitleContext, type Turn } from "../../src/domain/generated-text.ts";

describe("normalizeTitle", () => {
  it.each([
    ["  Fixing the login bug  ", "Fixing the login bug"],
    ['"Quoted title"', "Quoted title"],
    ["'single' ", "single"],
    ["“Curly quotes”", "Curly quotes"],
    ["Title: Deploy pipeline", "Deploy pipeline"],
    ["Multi\nline\ttitle", "Multi line title"],
    ["Ends with a period.", "Ends with a period"],
    ["**Bold title**", "Bold title"],
    ["", ""],
  ])("%j -> %j", (raw, want) => {
    expect(normalizeTitle(raw)).toBe(want);
  });

  it("cuts long titles at a word boundary to at most 80 characters", () => {
    const t = normalizeTitle("word ".repeat(40));
    expect(t.length).toBeLessThanOrEqual(80);
    expect(t.endsWith("…")).toBe(true);
    expect(t).not.toMatch(/wor…$/);
  });
});

describe("normalizeSummary", () => {
  it("keeps one line and stores blank output as null", () => {
    expect(normalizeSummary("Fixed the\nflaky test ")).toBe("Fixed the flaky test");
    expect(normalizeSummary("   \n ")).toBeNull();
    expect(normalizeSummary("x".repeat(300))!.length).toBe(200);
  });
});

describe("title context selection", () => {
  const turns = (n: number): Turn[] => Array.from({ length: n }, (_, i) => ({ user: `u${i}`, assistant: `a${i}` }));
  it.each([
    [1, ["u0"], 0],
    [4, ["u0", "u1", "u2", "u3"], 0],
    [5, ["u0", "u2", "u3", "u4"], 1],
    [9, ["u0", "u6", "u7", "u8"], 5],
  ])("%i turns -> first + last three, %j, omitted %i", (n, users, omitted) => {
    const r = selectTitleContext(turns(n));
    expect(r.turns.map((t) => t.user)).toEqual(users);
    expect(r.omitted).toBe(omitted);
  });

  it("the regenerate prompt weighs the whole conversation and marks the gap", () => {
    const p = regenerateTitlePrompt(turns(7));
    expect(p).toContain("whole conversation");
    expect(p).toContain("primary objective");
    expect(p).toContain("User: u0");
    expect(p).toContain("[… 3 earlier turns omitted …]");
    expect(p.indexOf("User: u0")).toBeLessThan(p.indexOf("omitted"));
    expect(p.indexOf("omitted")).toBeLessThan(p.indexOf("User: u4"));
    expect(p).not.toContain("User: u1");
  });
});
