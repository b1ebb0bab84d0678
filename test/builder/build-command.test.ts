import { afterAll, describe, expect, it } from "vitest";
import { stat } from "node:fs/promises";
import { join } from "node:path";
import { blobKeys } from "../../core/blobs/port.ts";
import { sha1 } from "../../core/ids.ts";
import { ACCOUNT, buildDir, cleanupTempDirs, expectSuccess, fixture } from "./helpers.ts";

afterAll(cleanupTempDirs);

describe("build commands", () => {
  it("runs ferry.json buildCommand with the build env; its outputDirectory becomes the static root", async () => {
    const run = await buildDir(fixture("build-command"), { buildEnv: { GREETING: "ferry" } });
    const out = expectSuccess(run);
    expect(run.logs).toContain(`Running build command: ${run.request.config.buildCommand}`);
    expect(out.static.map((f) => f.path)).toEqual(["index.html", "sub/page.txt"]);
    const index = out.static[0]!;
    const bytes = (await run.blobs.get(index.key))!;
    expect(bytes.toString()).toBe("<h1>built for ferry</h1>\n");
    // produced files are stored content-addressed like uploads
    expect(index).toMatchObject({ key: blobKeys.file(ACCOUNT, sha1(bytes)), sha: sha1(bytes), size: bytes.length, contentType: "text/html; charset=utf-8" });
    // a copied upload keeps pointing at the uploaded blob
    const page = out.static[1]!;
    expect(page.sha).toBe(run.request.files.find((f) => f.file === "src/page.txt")!.sha);
    expect((await run.blobs.get(page.key))!.toString()).toBe("raw text\n");
    // a build command may write anywhere in its workspace: it gets copies, never the stored files
    expect((await stat(join(run.workDir, "src", "page.txt"))).nlink).toBe(1);
  });

  it("runs package.json's build script; a dist/ it creates becomes the static root", async () => {
    const run = await buildDir(fixture("build-script"), { buildEnv: { STAMP: "s-1" } });
    const out = expectSuccess(run);
    expect(run.logs).toContain("Running build command: npm run build");
    expect(out.static.map((f) => f.path)).toEqual(["index.html"]);
    expect((await run.blobs.get(out.static[0]!.key))!.toString()).toBe("<h1>generated s-1</h1>");
  });

  it("a failing build command is an error result with its output", async () => {
    const broken = await buildDir(fixture("build-command"), {
      builder: async (req, ctx) => (await import("../../builder/build.ts")).build({ ...req, config: { ...req.config, buildCommand: "echo compiling; echo 'src/x.ts: type error' >&2; exit 3" } }, ctx),
    });
    expect(broken.result.type).toBe("error");
    if (broken.result.type !== "error") return;
    expect(broken.result.errors[0]!.message).toMatch(/^build command "echo compiling; .*" failed \(exited with code 3\):\ncompiling\nsrc\/x\.ts: type error$/);
  });

  it("an outputDirectory the build did not create is an error", async () => {
    const broken = await buildDir(fixture("build-command"), {
      builder: async (req, ctx) => (await import("../../builder/build.ts")).build({ ...req, config: { ...req.config, buildCommand: "true" } }, ctx),
    });
    expect(broken.result).toEqual({ type: "error", errors: [{ message: 'outputDirectory "out" was not found after the build command' }] });
  });

  it("an aborted in-process build returns canceled and stops its command", async () => {
    const ac = new AbortController();
    const started = Date.now();
    const run = await buildDir(fixture("build-command"), {
      signal: ac.signal,
      builder: async (req, ctx) => {
        setTimeout(() => ac.abort(), 200);
        return (await import("../../builder/build.ts")).build({ ...req, config: { ...req.config, buildCommand: "exec sleep 30" } }, ctx);
      },
    });
    expect(run.result).toEqual({ type: "error", errors: [{ message: "build canceled" }] });
    expect(run.logs.at(-1)).toBe("Build canceled");
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});
