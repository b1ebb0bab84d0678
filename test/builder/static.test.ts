import { afterAll, describe, expect, it } from "vitest";
import { blobKeys } from "../../core/blobs/port.ts";
import { buildDir, cleanupTempDirs, example, expectSuccess, fixture, ACCOUNT } from "./helpers.ts";

afterAll(cleanupTempDirs);

describe("static sites", () => {
  it("serves the whole folder when there is no code, minus config and dotfiles", async () => {
    const run = await buildDir(fixture("static-names"));
    const out = expectSuccess(run);
    expect(out.functions).toEqual([]);
    const byPath = Object.fromEntries(out.static.map((f) => [f.path, f]));
    expect(Object.keys(byPath).sort()).toEqual(
      [".well-known/security.txt", "app.js", "café/nested/menü.html", "data.json", "docs/a b.html", "docs/blob.bin", "docs/logo.svg", "index.html", "robots.txt", "with space/style.css"].sort(),
    );
    expect(byPath["index.html"]!.contentType).toBe("text/html; charset=utf-8");
    expect(byPath["with space/style.css"]!.contentType).toBe("text/css; charset=utf-8");
    expect(byPath["app.js"]!.contentType).toBe("text/javascript; charset=utf-8");
    expect(byPath["data.json"]!.contentType).toBe("application/json; charset=utf-8");
    expect(byPath["docs/logo.svg"]!.contentType).toBe("image/svg+xml");
    expect(byPath["docs/blob.bin"]!.contentType).toBe("application/octet-stream");
    // uploaded files are referenced where they already are
    const menu = byPath["café/nested/menü.html"]!;
    expect(menu.key).toBe(blobKeys.file(ACCOUNT, menu.sha));
    expect((await run.blobs.get(menu.key))!.toString()).toBe("<p>menü</p>\n");
    // compiled into Vercel's routes array (the router runs it), cleanUrls kept for file lookups
    expect(out.routes.cleanUrls).toBe(true);
    expect(out.routes.routes).toContainEqual({ src: "^/old$", headers: { Location: "/" }, status: 308, caseSensitive: true });
    expect(run.logs.some((l) => l.includes("static site"))).toBe(true);
  });

  it("builds examples/static-site", async () => {
    const out = expectSuccess(await buildDir(example("static-site")));
    const paths = out.static.map((f) => f.path);
    expect(paths).toEqual(expect.arrayContaining(["index.html", "404.html", "about/index.html", "blog/café notes.html", "css/style.css", "img/logo.png"]));
    expect(paths).not.toContain("ferry.json");
    expect(out.static.find((f) => f.path === "img/logo.png")!.contentType).toBe("image/png");
    expect(out.routes.cleanUrls).toBe(true);
  });
});
