// The chat list's `q` grammar: every key, quoting, case rules, repetition, and
// every refusal naming the offending term.
import { describe, expect, it } from "vitest";
import { AppError } from "../../src/domain/errors.ts";
import { escapeLike, parseChatSearch, type ChatSearch, type SearchTermError } from "../../src/domain/search-query.ts";

const none: ChatSearch = { archived: false, labels: {} };
const search = (s: Partial<ChatSearch>): ChatSearch => ({ ...none, ...s });

function refusal(q: string): AppError {
  try {
    parseChatSearch(q);
  } catch (e) {
    expect(e).toBeInstanceOf(AppError);
    return e as AppError;
  }
  throw new Error(`expected ${JSON.stringify(q)} to be refused`);
}

describe("parseChatSearch: accepted queries", () => {
  it.each<[string, string | undefined, ChatSearch]>([
    // no filters
    ["undefined", undefined, none],
    ["empty", "", none],
    ["whitespace only", "  \t\n ", none],
    // every key
    ["title", "title:foo", search({ title: "foo" })],
    ["archived:true", "archived:true", search({ archived: true })],
    ["archived:false", "archived:false", search({ archived: false })],
    ["has_unread:true", "has_unread:true", search({ hasUnread: true })],
    ["has_unread:false", "has_unread:false", search({ hasUnread: false })],
    ["pr", "pr:42", search({ pr: 42 })],
    ["pr = 1", "pr:1", search({ pr: 1 })],
    ["pr = 2^31-1", "pr:2147483647", search({ pr: 2147483647 })],
    ["repo", "repo:acme/widgets", search({ repo: "acme/widgets" })],
    ["pr_title", "pr_title:fix", search({ prTitle: "fix" })],
    ["pr_status open", "pr_status:open", search({ prStatus: "open" })],
    ["pr_status merged", "pr_status:merged", search({ prStatus: "merged" })],
    ["pr_status closed", "pr_status:closed", search({ prStatus: "closed" })],
    ["pr_status is lower-cased", "pr_status:MeRgEd", search({ prStatus: "merged" })],
    ["diff_url https", 'diff_url:"https://github.com/o/r/pull/1"', search({ diffUrl: "https://github.com/o/r/pull/1" })],
    ["diff_url http", 'diff_url:"http://git.local:8080/o/r/pull/2"', search({ diffUrl: "http://git.local:8080/o/r/pull/2" })],
    ["diff_url unquoted", "diff_url:https://github.com/o/r/pull/1", search({ diffUrl: "https://github.com/o/r/pull/1" })],
    ["label", "label:env:prod", search({ labels: { env: "prod" } })],
    ["label key with . _ / -", "label:team.a_b/c-d:x", search({ labels: { "team.a_b/c-d": "x" } })],
    ["label value with colons", "label:url:http://x:1", search({ labels: { url: "http://x:1" } })],
    ["label key at 64 chars", `label:${"k".repeat(64)}:v`, search({ labels: { ["k".repeat(64)]: "v" } })],
    ["label value at 256 chars", `label:k:${"v".repeat(256)}`, search({ labels: { k: "v".repeat(256) } })],
    // quoting
    ["quoted spaces", 'title:"foo bar"', search({ title: "foo bar" })],
    ["quoted colons", 'title:"a:b:c"', search({ title: "a:b:c" })],
    ["quoted leading/trailing spaces kept", 'title:" x "', search({ title: " x " })],
    ["escaped quote", 'title:"say \\"hi\\""', search({ title: 'say "hi"' })],
    ["escaped backslash", 'title:"a\\\\"', search({ title: "a\\" })],
    ["other backslashes kept", 'title:"C:\\temp"', search({ title: "C:\\temp" })],
    ["quoted label value", 'label:env:"prod west"', search({ labels: { env: "prod west" } })],
    ["quoted label key and value", 'label:"env:prod west"', search({ labels: { env: "prod west" } })],
    ["quoted pr_title with colon", 'pr_title:"feat: search"', search({ prTitle: "feat: search" })],
    ["quote as a whole value", 'title:"\\""', search({ title: '"' })],
    // key case-insensitivity, value case preserved
    ["upper-case key", "TITLE:Foo", search({ title: "Foo" })],
    ["mixed-case key", "Pr_Title:Fix Repo:Acme/Widgets", search({ prTitle: "Fix", repo: "Acme/Widgets" })],
    ["LABEL key, label key/value case kept", "LABEL:Env:Prod", search({ labels: { Env: "Prod" } })],
    ["bool value in any case", "ARCHIVED:TRUE has_unread:False", search({ archived: true, hasUnread: false })],
    // combinations, label repetition (AND), separators
    [
      "every key at once",
      'title:t archived:true has_unread:true pr:7 repo:o/r pr_title:p pr_status:open diff_url:"https://h/x" label:a:1 label:b:2',
      { title: "t", archived: true, hasUnread: true, pr: 7, repo: "o/r", prTitle: "p", prStatus: "open", diffUrl: "https://h/x", labels: { a: "1", b: "2" } },
    ],
    ["labels repeat and AND", "label:a:1 label:b:2 label:c:3", search({ labels: { a: "1", b: "2", c: "3" } })],
    ["same value, different label keys", "label:a:x label:A:x", search({ labels: { a: "x", A: "x" } })],
    ["runs of whitespace, tabs, newlines", "  title:x\t\tpr:3\n label:k:v  ", search({ title: "x", pr: 3, labels: { k: "v" } })],
    ["title beginning with a colon", "title::x", search({ title: ":x" })],
    ["leading zeros in pr", "pr:007", search({ pr: 7 })],
    ["label key named like an Object member", "label:constructor:x", search({ labels: { constructor: "x" } })],
  ])("%s", (_name, q, expected) => {
    expect(parseChatSearch(q)).toEqual(expected);
  });

  it("allows MAX_SEARCH_LABELS label terms", () => {
    const q = Array.from({ length: 50 }, (_, i) => `label:k${i}:v`).join(" ");
    expect(Object.keys(parseChatSearch(q).labels)).toHaveLength(50);
  });
});

describe("parseChatSearch: refusals name the offending term", () => {
  it.each<[string, string, string, RegExp]>([
    // [name, q, offending term, message pattern]
    ["bare word", "foo", "foo", /bare words are reserved for full-text search; use title:<text>/],
    ["bare word among good terms", "pr:1 foo title:x", "foo", /bare words are reserved/],
    ["quoted bare phrase", '"foo bar"', '"foo bar"', /bare words are reserved/],
    ["unknown key", "owner:me", "owner:me", /unknown key "owner"/],
    ["unknown key (case-folded in message)", "Color:red", "Color:red", /unknown key "color"/],
    ["empty quoted value", 'title:""', 'title:""', /empty value for title/],
    ["leading colon", ":foo", ":foo", /cannot start with ':'/],
    ["lone colon", ":", ":", /cannot start with ':'/],
    ["trailing colon", "title:", "title:", /cannot end with ':'/],
    ["trailing colon on label", "label:env:", "label:env:", /cannot end with ':'/],
    ["unterminated quote", 'title:"foo bar', 'title:"foo bar', /unterminated quote/],
    ["unterminated quote after good terms", 'pr:1 title:"foo', 'title:"foo', /unterminated quote/],
    ["escaped closing quote leaves it open", 'title:"foo\\"', 'title:"foo\\"', /unterminated quote/],
    ["quote in the middle of a value", 'title:foo"bar"', 'title:foo"bar"', /quote may only open a value/],
    ["text after the closing quote", 'title:"a"b', 'title:"a"b', /closing quote must end the term/],
    ["quoted key", '"title":x', '"title":x', /closing quote must end the term/],
    ["bad bool", "archived:yes", "archived:yes", /archived must be true or false/],
    ["bad bool (1)", "has_unread:1", "has_unread:1", /has_unread must be true or false/],
    ["pr 0", "pr:0", "pr:0", /pr must be a whole number from 1 to 2147483647/],
    ["pr negative", "pr:-3", "pr:-3", /pr must be a whole number/],
    ["pr non-integer", "pr:1.5", "pr:1.5", /pr must be a whole number/],
    ["pr not a number", "pr:abc", "pr:abc", /pr must be a whole number/],
    ["pr with sign", "pr:+5", "pr:+5", /pr must be a whole number/],
    ["pr exponent", "pr:1e3", "pr:1e3", /pr must be a whole number/],
    ["pr > 2^31-1", "pr:2147483648", "pr:2147483648", /pr must be a whole number/],
    ["pr huge", `pr:${"9".repeat(40)}`, `pr:${"9".repeat(40)}`, /pr must be a whole number/],
    ["bad pr_status", "pr_status:draft", "pr_status:draft", /pr_status must be one of open, merged, closed/],
    ["diff_url not a URL", "diff_url:nope", "diff_url:nope", /diff_url must be an http or https URL with a host/],
    ["diff_url ftp", 'diff_url:"ftp://host/file"', 'diff_url:"ftp://host/file"', /http or https/],
    ["diff_url no host", 'diff_url:"https://"', 'diff_url:"https://"', /with a host/],
    ["diff_url file", "diff_url:file:///etc/passwd", "diff_url:file:///etc/passwd", /http or https/],
    ["diff_url too long", `diff_url:https://h/${"a".repeat(2048)}`, `diff_url:https://h/${"a".repeat(2048)}`, /longer than 2048/],
    ["label without value", "label:env", "label:env", /label:<key>:<value>/],
    ["label key with bad first char", "label:-env:x", "label:-env:x", /label key must be/],
    ["label key with bad chars", "label:e$nv:x", "label:e$nv:x", /label key must be/],
    ["label key empty", "label::x", "label::x", /label key must be/],
    ["label key too long", `label:${"k".repeat(65)}:v`, `label:${"k".repeat(65)}:v`, /label key must be 1-64/],
    ["label value empty", 'label:env:""', 'label:env:""', /label value must be 1-256/],
    ["label value too long", `label:k:${"v".repeat(257)}`, `label:k:${"v".repeat(257)}`, /label value must be 1-256/],
    ["same label key twice", "label:env:a label:env:b", "label:env:b", /label env may appear only once/],
    ["title twice", "title:a title:b", "title:b", /title may appear only once/],
    ["title twice, different key case", "title:a TITLE:b", "TITLE:b", /title may appear only once/],
    ["archived twice", "archived:true archived:true", "archived:true", /archived may appear only once/],
    ["title too long", `title:${"t".repeat(257)}`, `title:${"t".repeat(257)}`, /longer than 256/],
  ])("%s", (_name, q, term, message) => {
    const e = refusal(q);
    expect(e.code).toBe("validation_failed");
    expect(e.status).toBe(400);
    expect(e.message).toContain(JSON.stringify(term));
    expect(e.message).toMatch(message);
    const details = e.details as SearchTermError[];
    expect(details).toHaveLength(1);
    expect(details[0]!.term).toBe(term);
    expect(details[0]!.message).toMatch(message);
  });

  it("refuses more than MAX_SEARCH_LABELS label terms, naming the first extra one", () => {
    const q = Array.from({ length: 51 }, (_, i) => `label:k${i}:v`).join(" ");
    const e = refusal(q);
    expect(e.details).toEqual([{ term: "label:k50:v", message: "at most 50 label terms" }]);
  });

  it("reports every offending term in details, the first in the message", () => {
    const e = refusal("foo pr:0 title:ok nope:x");
    expect((e.details as SearchTermError[]).map((d) => d.term)).toEqual(["foo", "pr:0", "nope:x"]);
    expect(e.message).toBe('invalid search term "foo": bare words are reserved for full-text search; use title:<text> (and 2 more)');
  });
});

describe("escapeLike", () => {
  it.each([
    ["plain", "abc", "abc"],
    ["percent", "100%", "100\\%"],
    ["underscore", "a_b", "a\\_b"],
    ["backslash", "a\\b", "a\\\\b"],
    ["all together", "%_\\", "\\%\\_\\\\"],
    ["empty", "", ""],
  ])("%s", (_name, input, expected) => {
    expect(escapeLike(input)).toBe(expected);
  });
});
