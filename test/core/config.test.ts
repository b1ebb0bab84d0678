import { describe, expect, it } from "vitest";
import { parseFerryConfig } from "../../core/config/schema.ts";
import { compileMatcher } from "../../core/config/patterns.ts";
import { compileRoutes } from "../../core/config/routing.ts";
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
    [{ rewrites: [{ source: "/a", destination: 5 }] }, "ferry.json: rewrites[0].destination"],
    [{ redirects: [{ source: "/a", destination: "/b", bogus: true }] }, "ferry.json: redirects[0].bogus: unknown property"],
    [{ redirects: [{ source: "/a", destination: "/b", permanent: true, statusCode: 301 }] }, "ferry.json: redirects[0]: Redirect at index 0 cannot define both `permanent` and `statusCode`"],
    [{ redirects: [{ source: "/ok", destination: "/x" }, { source: "/a", destination: "/b/:id" }] }, 'ferry.json: redirects[1]: Redirect at index 1 has segment ":id" in `destination` property but not in `source` or `has` property'],
    [{ rewrites: [{ source: "/a", destination: "/b/:slug" }] }, 'ferry.json: rewrites[0]: Rewrite at index 0 has segment ":slug"'],
    [{ headers: [{ source: "/a", headers: [{ key: "bad key", value: "x" }] }] }, "ferry.json: headers[0].headers[0].key: invalid header name"],
    [{ routes: [{ src: "/a(", dest: "/b" }] }, "ferry.json: routes[0].src: Route at index 0 has invalid `src`/`source` regular expression"],
    [{ routes: [{ src: "/a", dest: "/b" }], rewrites: [{ source: "/c", destination: "/d" }] }, "ferry.json: routes: `routes` cannot be used together with `rewrites`"],
    [{ routes: [{ src: "/a" }], cleanUrls: true, trailingSlash: false }, "`routes` cannot be used together with `cleanUrls`, `trailingSlash`"],
    [{ rewrites: [{ source: "/a", destination: "/b", transforms: [] }] }, "ferry.json: rewrites[0].transforms"],
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

describe("function route patterns", () => {
  it("match paths without decoding them", () => {
    expect(compileMatcher("/users/:id")("/users/42")).toEqual({ id: "42" });
    expect(compileMatcher("/users/:id")("/users")).toBeNull();
    expect(compileMatcher("/files/*path")("/files/a%20b/c")).toEqual({ path: "a%20b/c" });
  });
});

describe("routing compiled by Vercel's rules", () => {
  it("gives nothing to run for a config without rules", () => {
    expect(compileRoutes({})).toBeNull();
    expect(compileRoutes({ redirects: [], cleanUrls: false })).toBeNull();
  });

  it("makes new-style rules case-sensitive and keeps legacy routes as they are", () => {
    const routes = compileRoutes({ redirects: [{ source: "/a", destination: "/b" }], rewrites: [{ source: "/c", destination: "/d" }] })!;
    expect(routes).toEqual([
      { src: "^/a$", headers: { Location: "/b" }, status: 308, caseSensitive: true },
      { handle: "filesystem" },
      { src: "^/c$", dest: "/d", check: true, caseSensitive: true },
    ]);
    expect(compileRoutes({ routes: [{ src: "/x", dest: "/y" }] })).toEqual([{ src: "^/x$", dest: "/y" }]);
  });

  it("accepts has/missing and legacy routes as Vercel does", () => {
    const c = parseFerryConfig({
      rewrites: [{ source: "/a", destination: "/b/:id", has: [{ type: "header", key: "x-id", value: "(?<id>\\d+)" }], missing: [{ type: "cookie", key: "s" }] }],
    });
    expect(c.rewrites?.[0]?.has?.[0]).toMatchObject({ type: "header" });
    expect(problem({ routes: [{ handle: "filesystem" }, { src: "/(.*)", dest: "/index.html" }] })).toBe("accepted");
  });
});

describe("uploaded paths", () => {
  it("normalizes and confines", () => {
    expect(confinePath("a/./b.txt")).toBe("a/b.txt");
    expect(confinePath("dir/file with spaces é.html")).toBe("dir/file with spaces é.html");
    for (const bad of ["../x", "a/../../x", "/etc/passwd", "C:/x", "a\0b", "a\\b", ""]) expect(() => confinePath(bad)).toThrow();
  });
});
