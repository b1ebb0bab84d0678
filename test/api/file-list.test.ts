import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { Hono } from "hono";
import type { BuildResult } from "../../core/types.ts";
import { onApiError } from "../../api/errors.ts";
import { apiHarness } from "../helpers/api.ts";

const success: BuildResult = { type: "success", output: { version: 1, functions: [], static: [], routes: {} } };

describe("API: the deployment file list", () => {
  let h: Awaited<ReturnType<typeof apiHarness>>;
  let built = 0;
  let ok: { file: string; sha: string; size: number; mode: number };
  beforeAll(async () => {
    h = await apiHarness(async () => {
      built++;
      return success;
    });
    [ok] = await h.upload({ "ok.txt": "ok" });
  });
  afterAll(async () => h.end());

  const count = async () => (await (await h.call("GET", "/v1/deployments?limit=100")).json()).deployments.length as number;
  const deploy = (files: unknown[]) => h.call("POST", "/v1/deployments", { json: { name: "list", files } });

  it.each([
    ["a character device", 0o020644],
    ["a block device", 0o060644],
    ["a fifo", 0o010644],
    ["a socket", 0o140755],
    ["a directory", 0o040755],
    ["a symlink", 0o120777],
    ["setuid", 0o104755],
    ["setgid", 0o102755],
    ["sticky", 0o101644],
    ["bare permission bits", 0o644],
    ["an absurd value", 2 ** 40],
    ["type bits of no file type", 0o170644],
  ])("rejects %s (mode %o), naming the file and the rule", async (_what, mode) => {
    const before = await count();
    const r = await deploy([{ ...ok, file: "bin/tool", mode }]);
    expect(r.status).toBe(400);
    const e = (await r.json()).error;
    expect(e).toMatchObject({ code: "invalid_file_list", file: "bin/tool", rule: expect.stringMatching(/^mode/) });
    expect(e.message).toContain('"bin/tool"');
    expect(e.message).toMatch(/mode/);
    expect(await count()).toBe(before);
  });

  it.each([0o100644, 0o100755, 0o100600, 0o100444, 0o100000, undefined])("accepts a regular file of mode %o", async (mode) => {
    const r = await deploy([{ file: ok.file, sha: ok.sha, size: ok.size, ...(mode === undefined ? {} : { mode }) }]);
    expect(r.status).toBe(201);
  });

  const long = (n: number, c = "a") => c.repeat(n);
  it.each([
    ["./", "segment"],
    [".", "segment"],
    ["a/./b.txt", "segment"],
    ["./a.txt", "segment"],
    ["a//b.txt", "segment"],
    ["a/", "segment"],
    ["..", "segment"],
    ["a/../b.txt", "segment"],
    ["", "path"],
    [long(300), "segment_length"],
    [`dir/${long(256)}/x.txt`, "segment_length"],
    [`${"é".repeat(128)}.txt`, "segment_length"],
    [Array.from({ length: 103 }, () => long(9)).join("/"), "path_length"],
    ["/etc/passwd", "absolute"],
    ["C:/x.txt", "absolute"],
    ["a\\b.txt", "backslash"],
    ["a\0b", "nul"],
  ])("rejects the path %j (%s) before anything is built", async (file, rule) => {
    const before = await count();
    const r = await deploy([{ ...ok, file }]);
    expect(r.status).toBe(400);
    const e = (await r.json()).error;
    expect(e).toMatchObject({ code: "invalid_file_list", file, rule });
    expect(e.message).toContain(JSON.stringify(file));
    expect(await count()).toBe(before);
  });

  it("accepts a 255-byte segment and a 1024-byte path", async () => {
    const seg = long(255);
    const path = [long(200), long(200), long(200), long(200), long(220)].join("/");
    expect(Buffer.byteLength(path)).toBe(1024);
    expect((await deploy([{ ...ok, file: `${seg}` }])).status).toBe(201);
    expect((await deploy([{ ...ok, file: path }])).status).toBe(201);
    expect((await deploy([{ ...ok, file: "dir/file with spaces é.html" }])).status).toBe(201);
  });

  it("rejects a file that is also a folder of another file, and duplicates", async () => {
    const conflict = await deploy([{ ...ok, file: "a/b" }, { ...ok, file: "a/b/c.txt" }]);
    expect(conflict.status).toBe(400);
    expect((await conflict.json()).error).toMatchObject({ code: "invalid_file_list", file: "a/b/c.txt", rule: "file_is_folder" });
    const reversed = await deploy([{ ...ok, file: "x/y/z.txt" }, { ...ok, file: "x/y" }]);
    expect((await reversed.json()).error).toMatchObject({ code: "invalid_file_list", file: "x/y", rule: "file_is_folder" });
    const dup = await deploy([ok, { ...ok }]);
    expect((await dup.json()).error).toMatchObject({ code: "invalid_file_list", file: "ok.txt", rule: "duplicate" });
    const sha = await deploy([{ ...ok, sha: "xyz" }]);
    expect((await sha.json()).error).toMatchObject({ code: "invalid_file_list", file: "ok.txt", rule: "sha" });
  });

  it("never answers with a platform path: a build that throws is reported without its message", async () => {
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    try {
      const hostile = await apiHarness(async () => {
        throw new Error("ENAMETOOLONG: name too long, open '/tmp/ferry-home/builds/dpl_x/aaaa'");
      });
      try {
        const files = await hostile.upload({ "index.html": "x" });
        const d = await (await hostile.call("POST", "/v1/deployments", { json: { name: "boom", files } })).json();
        const done = await hostile.waitFor(d.id);
        expect(done.state).toBe("ERROR");
        expect(done.errorMessage).not.toMatch(/\/tmp|ENAMETOOLONG/);
        expect(done.errorMessage).toMatch(/internal error/);
        const events = await (await hostile.call("GET", `/v1/deployments/${d.id}/events`)).text();
        expect(events).not.toContain("/tmp/");
      } finally {
        await hostile.end();
      }
      expect(errors.mock.calls.flat().join(" ")).toContain("/tmp/ferry-home/builds/dpl_x");
    } finally {
      errors.mockRestore();
    }
  });
});

describe("API: the error edge", () => {
  it("answers an unexpected exception with a generic message and a request id, logging the details", async () => {
    const logged: unknown[][] = [];
    const errors = vi.spyOn(console, "error").mockImplementation((...a) => void logged.push(a));
    try {
      const app = new Hono();
      app.onError(onApiError);
      app.get("/boom", () => {
        throw new Error("EACCES: permission denied, open '/var/lib/ferry/blobs/files/acc/x'");
      });
      const r = await app.request("/boom");
      expect(r.status).toBe(500);
      const text = await r.text();
      expect(text).not.toContain("/var/lib");
      expect(text).not.toContain("EACCES");
      const e = JSON.parse(text).error;
      expect(e.code).toBe("internal_error");
      expect(e.requestId).toMatch(/^req_[a-z0-9]+$/);
      expect(e.message).toContain(e.requestId);
      expect(r.headers.get("x-request-id")).toBe(e.requestId);
      const line = logged.flat().map(String).join(" ");
      expect(line).toContain(e.requestId);
      expect(line).toContain("/var/lib/ferry/blobs");
    } finally {
      errors.mockRestore();
    }
  });
});
