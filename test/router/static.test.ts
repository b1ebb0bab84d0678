import { gunzipSync, brotliDecompressSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRouter } from "../../router/index.ts";
import { scratch } from "../runtime/helpers.ts";
import { ADAPTERS, fakeResolve, noFunctions, output, ready, staticFile, type RouterClient } from "./helpers.ts";

// Static files: validators, ranges, compression, index files, 404 page, and confinement.
describe.each(ADAPTERS)("router: static files (%s)", (_adapter, serve) => {
  let app: RouterClient;
  let router: ReturnType<typeof createRouter>;
  let cleanup: () => Promise<unknown>;
  const css = "body { color: red; }\n".repeat(200); // 4.2 KB: worth compressing
  const big = Buffer.alloc(600 * 1024, "abcdefghij"); // above the in-memory size: streamed
  let sha: string;

  beforeAll(async () => {
    const s = await scratch();
    cleanup = s.cleanup;
    const files = [
      await staticFile(s.blobs, "index.html", "<h1>home</h1>"),
      await staticFile(s.blobs, "style.css", css, "text/css; charset=utf-8"),
      await staticFile(s.blobs, "docs/index.html", "<h1>docs</h1>"),
      await staticFile(s.blobs, "docs/a b.html", "<p>spaced</p>"),
      await staticFile(s.blobs, "img.png", Buffer.from([0x89, 0x50, 0x4e, 0x47, 1, 2, 3, 4, 5, 6]), "image/png"),
      await staticFile(s.blobs, "big.txt", big, "text/plain; charset=utf-8"),
    ];
    sha = files[1]!.sha;
    const with404 = [...files, await staticFile(s.blobs, "404.html", "<h1>custom 404</h1>")];
    router = createRouter({
      domain: "localhost",
      resolve: fakeResolve({ site: ready(output(files)), custom: ready(output(with404)) }),
      host: noFunctions,
      blobs: s.blobs,
    });
    app = serve(router);
  });
  afterAll(async () => {
    await app.close();
    await cleanup();
  });

  const get = (path: string, headers: Record<string, string> = {}, method = "GET") => app.request(`http://site.localhost${path}`, { method, headers });

  it("serves with the manifest's content type, an ETag and revalidating cache headers", async () => {
    const res = await get("/style.css");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/css; charset=utf-8");
    expect(res.headers.get("etag")).toBe(`"${sha}"`);
    expect(res.headers.get("cache-control")).toBe("public, max-age=0, must-revalidate");
    expect(res.headers.get("vary")).toBe("Accept-Encoding");
    expect(await res.text()).toBe(css);
  });

  it("answers 304 when If-None-Match matches", async () => {
    const res = await get("/style.css", { "if-none-match": `"other", "${sha}"` });
    expect(res.status).toBe(304);
    expect(res.headers.get("etag")).toBe(`"${sha}"`);
    expect(await res.text()).toBe("");
    expect((await get("/style.css", { "if-none-match": '"other"' })).status).toBe(200);
  });

  it("serves byte ranges (206) and refuses impossible ones (416)", async () => {
    const r = await get("/style.css", { range: "bytes=0-3" });
    expect(r.status).toBe(206);
    expect(r.headers.get("content-range")).toBe(`bytes 0-3/${css.length}`);
    expect(r.headers.get("content-encoding")).toBeNull();
    expect(await r.text()).toBe("body");
    const suffix = await get("/style.css", { range: "bytes=-2" });
    expect(await suffix.text()).toBe("}\n");
    const open = await get("/big.txt", { range: `bytes=${big.length - 5}-` });
    expect(open.status).toBe(206);
    expect(await open.text()).toBe(big.subarray(big.length - 5).toString());
    const bad = await get("/style.css", { range: `bytes=${css.length}-` });
    expect(bad.status).toBe(416);
    expect(bad.headers.get("content-range")).toBe(`bytes */${css.length}`);
    // a range for another version of the file is ignored
    const stale = await get("/style.css", { range: "bytes=0-3", "if-range": '"old"' });
    expect(stale.status).toBe(200);
  });

  it("answers HEAD with headers only", async () => {
    const res = await get("/img.png", {}, "HEAD");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-length")).toBe("10");
    expect(res.headers.get("content-type")).toBe("image/png");
    expect((await res.arrayBuffer()).byteLength).toBe(0);
  });

  it("compresses text types when the client accepts it, never small or binary files", async () => {
    const gz = await get("/style.css", { "accept-encoding": "gzip, deflate" });
    expect(gz.headers.get("content-encoding")).toBe("gzip");
    expect(gunzipSync(Buffer.from(await gz.arrayBuffer())).toString()).toBe(css);
    const br = await get("/style.css", { "accept-encoding": "gzip, br" });
    expect(br.headers.get("content-encoding")).toBe("br");
    expect(brotliDecompressSync(Buffer.from(await br.arrayBuffer())).toString()).toBe(css);
    const streamed = await get("/big.txt", { "accept-encoding": "gzip" });
    expect(streamed.headers.get("content-encoding")).toBe("gzip");
    expect(gunzipSync(Buffer.from(await streamed.arrayBuffer())).equals(big)).toBe(true);
    const refused = await get("/style.css", { "accept-encoding": "br;q=0, gzip;q=0" });
    expect(refused.headers.get("content-encoding")).toBeNull();
    expect((await get("/index.html", { "accept-encoding": "gzip" })).headers.get("content-encoding")).toBeNull();
    expect((await get("/img.png", { "accept-encoding": "gzip" })).headers.get("content-encoding")).toBeNull();
  });

  it("streams a large file whole", async () => {
    const res = await get("/big.txt");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-length")).toBe(String(big.length));
    expect(Buffer.from(await res.arrayBuffer()).equals(big)).toBe(true);
  });

  it("serves index.html for folders and decodes escaped names", async () => {
    expect(await (await get("/")).text()).toBe("<h1>home</h1>");
    expect(await (await get("/docs")).text()).toBe("<h1>docs</h1>");
    expect(await (await get("/docs/")).text()).toBe("<h1>docs</h1>");
    expect(await (await get("/docs/a%20b.html")).text()).toBe("<p>spaced</p>");
  });

  it("uses the deployment's 404.html with status 404 when it has one", async () => {
    const res = await app.request("http://custom.localhost/nothing/here");
    expect(res.status).toBe(404);
    expect(await res.text()).toBe("<h1>custom 404</h1>");
    const plain = await get("/nothing");
    expect(plain.status).toBe(404);
  });

  it("refuses non-GET methods on files", async () => {
    const res = await get("/style.css", {}, "POST");
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe("GET, HEAD");
  });

  it("never reaches outside the deployment", async () => {
    const attempts = [
      "/../index.html",
      "/%2e%2e/%2e%2e/etc/passwd",
      "/..%2f..%2fetc%2fpasswd",
      "/docs/..%2findex.html",
      "/a\\..\\b",
      "/%5c..%5cindex.html",
      "/docs/%00.html",
      "/%E0%A4%A",
      "/docs/.%2e/.%2e/secret",
    ];
    for (const path of attempts) {
      // a raw request line, as a client could send it (no URL normalization on the way)
      const req = new Request(`http://site.localhost/`);
      Object.defineProperty(req, "url", { value: `http://site.localhost${path}` });
      const res = await router.fetch(req);
      expect([400, 404], path).toContain(res.status);
      const body = await res.text();
      expect(body).not.toContain("root:");
      if (_adapter.startsWith("Node")) {
        // and the same over the wire, the request target exactly as written
        const wire = await app.request(`http://site.localhost${path}`);
        expect([400, 404], path).toContain(wire.status);
        expect(await wire.text()).not.toContain("root:");
      }
    }
  });
});
