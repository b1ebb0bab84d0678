import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sha1 } from "../../core/ids.ts";
import { blobKeys } from "../../core/blobs/port.ts";
import type { BuildResult } from "../../core/types.ts";
import { apiHarness } from "../helpers/api.ts";

const success: BuildResult = { type: "success", output: { version: 1, functions: [], static: [], routes: {} } };
let builds = 0;

describe("API: auth and the upload protocol", () => {
  let h: Awaited<ReturnType<typeof apiHarness>>;
  beforeAll(async () => {
    h = await apiHarness(async () => {
      builds++;
      return success;
    });
  });
  afterAll(async () => h.end());

  it("serves health without a token and nothing else", async () => {
    expect((await h.call("GET", "/v1/health", { token: null })).status).toBe(200);
    const r = await h.call("GET", "/v1/deployments", { token: null });
    expect(r.status).toBe(401);
    expect((await r.json()).error.code).toBe("unauthorized");
    expect((await h.call("GET", "/v1/deployments", { token: "fry_wrong" })).status).toBe(401);
  });

  it("returns missing_files, accepts the uploads, then creates the deployment", async () => {
    const files = [{ file: "index.html", sha: sha1("<h1>hi</h1>"), size: 11, mode: 0o100644 }];
    const first = await h.call("POST", "/v1/deployments", { json: { name: "site", files } });
    expect(first.status).toBe(400);
    const body = await first.json();
    expect(body.error.code).toBe("missing_files");
    expect(body.error.missing).toEqual([files[0]!.sha]);

    const up = await h.call("POST", "/v1/files", { body: "<h1>hi</h1>", headers: { "x-ferry-digest": files[0]!.sha } });
    expect(up.status).toBe(201);
    const again = await h.call("POST", "/v1/files", { body: "<h1>hi</h1>", headers: { "x-ferry-digest": files[0]!.sha } });
    expect(again.status).toBe(200);

    const created = await h.call("POST", "/v1/deployments", { json: { name: "site", files } });
    expect(created.status).toBe(201);
    const d = await created.json();
    expect(d).toMatchObject({ project: "site", state: "QUEUED" });
    expect(d.url).toMatch(/^http:\/\/site-[a-z0-9]{8}\.ferry\.test$/);
    const ready = await h.waitFor(d.id);
    expect(ready.state).toBe("READY");
    // found by id, by host label and by URL
    expect((await (await h.call("GET", `/v1/deployments/${d.host}`)).json()).id).toBe(d.id);
    expect((await (await h.call("GET", `/v1/deployments/${encodeURIComponent(d.url)}`)).json()).id).toBe(d.id);
    const list = await (await h.call("GET", "/v1/deployments")).json();
    expect(list.deployments.map((x: { id: string }) => x.id)).toContain(d.id);
  });

  it("rejects an upload whose bytes do not match the digest, storing nothing", async () => {
    const claimed = sha1("something else");
    const r = await h.call("POST", "/v1/files", { body: "actual bytes", headers: { "x-ferry-digest": claimed } });
    expect(r.status).toBe(400);
    expect((await r.json()).error.code).toBe("digest_mismatch");
    expect(await h.blobs.head(blobKeys.file("acc_a", claimed))).toBeNull();
    expect(await h.blobs.head(blobKeys.file("acc_a", sha1("actual bytes")))).toBeNull();
  });

  it("rejects uploads over the limit with 413", async () => {
    const big = "x".repeat(1024 * 1024 + 1);
    const r = await h.call("POST", "/v1/files", { body: big, headers: { "x-ferry-digest": sha1(big) } });
    expect(r.status).toBe(413);
    expect((await r.json()).error.code).toBe("file_too_large");
    expect(await h.blobs.head(blobKeys.file("acc_a", sha1(big)))).toBeNull();
  });

  it.each([
    ["../etc/passwd", /'\.\.'/],
    ["/etc/passwd", /absolute/],
    ["a\0b", /NUL/],
    ["a\\..\\b", /backslash/],
  ])("rejects the file path %j, naming it, and creates nothing", async (file, why) => {
    const [f] = await h.upload({ "ok.txt": "ok" });
    const before = (await (await h.call("GET", "/v1/deployments?limit=100")).json()).deployments.length;
    const r = await h.call("POST", "/v1/deployments", { json: { name: "bad", files: [{ ...f, file }] } });
    expect(r.status).toBe(400);
    const e = (await r.json()).error;
    expect(e.code).toBe("invalid_file_list");
    expect(e.message).toContain(JSON.stringify(file));
    expect(e.message).toMatch(why);
    expect((await (await h.call("GET", "/v1/deployments?limit=100")).json()).deployments.length).toBe(before);
  });

  it("rejects duplicate names and sizes that do not match the upload", async () => {
    const [f] = await h.upload({ "a.txt": "abc" });
    const dup = await h.call("POST", "/v1/deployments", { json: { name: "bad", files: [f, { ...f }] } });
    expect(dup.status).toBe(400);
    expect((await dup.json()).error).toMatchObject({ code: "invalid_file_list", rule: "duplicate", file: "a.txt" });
    const size = await h.call("POST", "/v1/deployments", { json: { name: "bad", files: [{ ...f, size: 99 }] } });
    expect(size.status).toBe(400);
    expect((await size.json()).error).toMatchObject({ code: "size_mismatch", file: "a.txt" });
  });

  it("scopes uploaded files to the account: another account must upload them itself", async () => {
    const files = await h.upload({ "secret.txt": "only account A has this" });
    const r = await h.call("POST", "/v1/deployments", { token: h.tokenB, json: { name: "b-app", files } });
    expect(r.status).toBe(400);
    expect((await r.json()).error.missing).toEqual([files[0]!.sha]);
  });

  it("does not show one account's deployments to another", async () => {
    const files = await h.upload({ "index.html": "mine" });
    const d = await (await h.call("POST", "/v1/deployments", { json: { name: "private", files } })).json();
    expect((await h.call("GET", `/v1/deployments/${d.id}`, { token: h.tokenB })).status).toBe(404);
    const list = await (await h.call("GET", "/v1/deployments", { token: h.tokenB })).json();
    expect(list.deployments).toEqual([]);
  });

  it("rejects an invalid ferry.json with the JSON path of the problem", async () => {
    const files = await h.upload({ "ferry.json": JSON.stringify({ rewrites: [{ source: "no-slash", destination: "/x" }] }) });
    const r = await h.call("POST", "/v1/deployments", { json: { name: "cfg", files } });
    expect(r.status).toBe(400);
    const e = (await r.json()).error;
    expect(e.code).toBe("invalid_config");
    expect(e.message).toContain("rewrites[0].source");
  });

  it("skips the build for a no-change redeploy, and rebuilds with force", async () => {
    const files = await h.upload({ "index.html": "same content" });
    const a = await (await h.call("POST", "/v1/deployments", { json: { name: "same", files } })).json();
    await h.waitFor(a.id);
    const count = builds;
    const b = await (await h.call("POST", "/v1/deployments", { json: { name: "same", files } })).json();
    expect(b.state).toBe("READY");
    expect(b.reusedFrom).toBe(a.id);
    expect(builds).toBe(count);
    const c = await (await h.call("POST", "/v1/deployments", { json: { name: "same", files, force: true } })).json();
    expect(c.state).toBe("QUEUED");
    expect((await h.waitFor(c.id)).state).toBe("READY");
    expect(builds).toBe(count + 1);
  });
});

describe("API: OpenAPI document", () => {
  let h: Awaited<ReturnType<typeof apiHarness>>;
  beforeAll(async () => {
    h = await apiHarness(async () => success);
  });
  afterAll(async () => h.end());

  it("is served without a token and lists every route the API answers", async () => {
    const r = await h.call("GET", "/v1/openapi.json", { token: null });
    expect(r.status).toBe(200);
    const doc = await r.json();
    expect(doc.openapi).toBe("3.1.0");
    const documented = new Set<string>();
    for (const [path, ops] of Object.entries(doc.paths as Record<string, Record<string, unknown>>)) {
      for (const method of Object.keys(ops)) documented.add(`${method.toUpperCase()} ${path}`);
    }
    const served = h.api.app.routes
      .filter((rt) => rt.method !== "ALL")
      .map((rt) => `${rt.method} ${rt.path.replace(/:([A-Za-z]+)/g, "{$1}")}`);
    expect(served.length).toBeGreaterThan(20);
    for (const route of served) expect(documented, route).toContain(route);
    expect(doc.components.schemas.CreateDeployment.properties.files).toBeDefined();
  });
});
