import { describe, expect, it } from "vitest";
import { parseFerryConfig } from "../../core/config/schema.ts";
import { compileMatcher, fillDestination, toPathToRegexp } from "../../core/config/patterns.ts";
import { confinePath } from "../../core/paths.ts";

const problem = (config: unknown) => {
  try {
    parseFerryConfig(config);
  } catch (e) {
    return (e as Error).message;
  }
  return "accepted";
};

describe("ferry.json validation", () => {
  it("accepts the documented keys", () => {
    const c = parseFerryConfig(
      JSON.stringify({
        name: "app", alias: ["www"], env: { A: "1" }, build: { env: { B: "2" } }, cleanUrls: true, trailingSlash: false,
        rewrites: [{ source: "/blog/:slug*", destination: "/api/post" }], redirects: [{ source: "/old", destination: "/new", permanent: true }],
        headers: [{ source: "/(.*)", headers: [{ key: "X-Frame-Options", value: "DENY" }] }],
        functions: { "api/*.ts": { memory: 512, maxDuration: 10, maxConcurrency: 5 } },
        stores: { todos: { type: "kv", keys: { partition: "id" } }, files: { type: "blob" } },
      }),
    );
    expect(c.stores?.todos?.keys).toEqual({ partition: "id" });
  });

  it.each([
    [{ bogus: 1 }, "ferry.json: bogus: unknown property"],
    [{ rewrites: [{ source: "no-slash", destination: "/x" }] }, "ferry.json: rewrites[0].source: must start with '/'"],
    [{ stores: { Bad_Name: { type: "kv" } } }, 'ferry.json: stores.Bad_Name: invalid store name "Bad_Name"'],
    [{ stores: { files: { type: "blob", keys: { partition: "id" } } } }, "ferry.json: stores.files.keys: only kv stores have keys"],
    [{ functions: { "api/*.ts": { memory: 99999 } } }, 'ferry.json: functions["api/*.ts"].memory'],
    [{ env: { "BAD-NAME": "x" } }, "ferry.json: env"],
    [{ name: "Upper" }, "ferry.json: name:"],
  ])("names the JSON path of %j", (config, expected) => {
    expect(problem(config)).toContain(expected);
  });

  it("reports invalid JSON", () => {
    expect(problem("{ not json")).toMatch(/^ferry\.json is not valid JSON/);
  });
});

describe("route patterns", () => {
  it("carries vercel.json-style patterns over to path-to-regexp", () => {
    expect(toPathToRegexp("/blog/:slug*")).toBe("/blog{/*slug}");
    expect(compileMatcher("/blog/:slug*")("/blog/a/b")).toMatchObject({ slug: expect.anything() });
    expect(compileMatcher("/blog/:slug*")("/blog")).not.toBeNull();
    expect(compileMatcher("/users/:id")("/users/42")).toEqual({ id: "42" });
    expect(compileMatcher("/users/:id")("/users")).toBeNull();
    expect(fillDestination("/api/user?id=:id", { id: "7" })).toBe("/api/user?id=7");
    // the everyday vercel.json catch-all, with `$1` in the destination
    const all = compileMatcher("/(.*)");
    expect(all("/")).not.toBeNull();
    expect(all("/a/b.css")).not.toBeNull();
    const old = compileMatcher("/old/(.*)")("/old/x/y");
    expect(fillDestination("/new/$1", old!)).toBe("/new/x/y");
  });
});

describe("uploaded paths", () => {
  it("normalizes and confines", () => {
    expect(confinePath("a/./b.txt")).toBe("a/b.txt");
    expect(confinePath("dir/file with spaces é.html")).toBe("dir/file with spaces é.html");
    for (const bad of ["../x", "a/../../x", "/etc/passwd", "C:/x", "a\0b", "a\\b", ""]) expect(() => confinePath(bad)).toThrow();
  });
});
