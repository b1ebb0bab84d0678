import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { createBlobGate, GateViolation } from "../../builder/blob-gate.ts";
import { runBuildInChild } from "../../builder/child.ts";
import type { BuildRequest } from "../../builder/port.ts";
import { INSIDE } from "../../builder/worker-protocol.ts";
import { createFsBlobStore } from "../../core/blobs/fs.ts";
import { blobKeys } from "../../core/blobs/port.ts";
import { sha1 } from "../../core/ids.ts";
import { createSandbox, type Sandbox } from "../../sandbox/index.ts";
import { cleanupTempDirs, prepareChild, tempDir } from "./helpers.ts";

// The build process runs beside tenant code that could take it over, so the platform checks
// every blob request it makes and the output it reports.

let sandbox: Sandbox;
beforeAll(() => {
  sandbox = createSandbox();
});
afterAll(async () => {
  sandbox?.close();
  await cleanupTempDirs();
});

const uploaded = "uploaded bytes";
const req = (): BuildRequest => ({
  deploymentId: "dpl_mine",
  accountId: "acc_mine",
  project: "p",
  files: [{ file: "public/a.txt", sha: sha1(uploaded), size: uploaded.length, mode: 0o100644 }],
  config: { functions: { "api/**": { memory: 512 } } },
  buildEnv: {},
});

describe("the blob gate of a sandboxed build", () => {
  it("allows this deployment's artifacts and this account's content-addressed files, nothing else", async () => {
    const blobs = createFsBlobStore(await tempDir("ferry-blobs-"));
    await blobs.put(blobKeys.file("acc_mine", sha1(uploaded)), uploaded);
    await blobs.put(blobKeys.file("acc_mine", sha1("not in this build")), "not in this build");
    await blobs.put(blobKeys.file("acc_other", sha1("theirs")), "theirs");
    const gate = createBlobGate(req(), blobs, { maxBytes: 1024 });
    const bytes = (s: string) => new Uint8Array(Buffer.from(s));

    await gate.put(`${blobKeys.artifactPrefix("dpl_mine", "api/hi")}/index.mjs`, bytes("code"));
    await gate.put(blobKeys.file("acc_mine", sha1("built")), bytes("built"));
    expect((await gate.get(blobKeys.file("acc_mine", sha1(uploaded))))!.toString()).toBe(uploaded);

    const refused = [
      () => gate.put(`${blobKeys.artifactPrefix("dpl_other", "api/hi")}/index.mjs`, bytes("code")),
      () => gate.put(blobKeys.output("dpl_mine"), bytes("{}")),
      () => gate.put(blobKeys.buildLog("dpl_mine"), bytes("log")),
      () => gate.put(blobKeys.file("acc_mine", sha1("other bytes")), bytes("not those bytes")),
      () => gate.put(blobKeys.file("acc_other", sha1("x")), bytes("x")),
      () => gate.put("files/acc_mine/../acc_other/x", bytes("x")),
      () => gate.get(blobKeys.file("acc_mine", sha1("not in this build"))),
      () => gate.get(blobKeys.file("acc_other", sha1("theirs"))),
      () => gate.get(blobKeys.fileList("dpl_mine")),
      () => gate.put(blobKeys.file("acc_mine", sha1("z".repeat(2000))), bytes("z".repeat(2000))),
    ];
    for (const attempt of refused) await expect(attempt()).rejects.toBeInstanceOf(GateViolation);
    expect(await blobs.get(`${blobKeys.artifactPrefix("dpl_other", "api/hi")}/index.mjs`)).toBeNull();
    expect(await blobs.get(blobKeys.file("acc_other", sha1("x")))).toBeNull();
  });

  it("accepts only an output made of what the build may reference, with settings the platform computes", async () => {
    const blobs = createFsBlobStore(await tempDir("ferry-blobs-"));
    const gate = createBlobGate(req(), blobs, { maxBytes: 1 << 20 });
    const prefix = blobKeys.artifactPrefix("dpl_mine", "api/hi");
    await gate.put(`${prefix}/index.mjs`, new Uint8Array(Buffer.from("code")));
    await gate.put(blobKeys.file("acc_mine", sha1("built")), new Uint8Array(Buffer.from("built")));
    const fn = { name: "api/hi", route: "/api/hi", source: "api/hi.ts", handler: "function", exports: ["default"], artifact: { prefix, entry: "index.mjs", files: ["index.mjs"] }, config: { memory: 99999, maxDuration: 99999, maxConcurrency: 99999 } };
    const file = (path: string, sha: string, account = "acc_mine") => ({ path, key: blobKeys.file(account, sha), sha, size: 1, contentType: "text/html" });

    const ok = gate.checkOutput({ version: 1, functions: [fn], static: [file("a.txt", sha1(uploaded)), file("b.css", sha1("built"))], routes: { cleanUrls: true } });
    expect(ok.functions[0]!.config).toEqual({ memory: 512, maxDuration: 30, maxConcurrency: 10 });
    expect(ok.static).toEqual([
      { path: "a.txt", key: blobKeys.file("acc_mine", sha1(uploaded)), sha: sha1(uploaded), size: uploaded.length, contentType: "text/plain; charset=utf-8" },
      { path: "b.css", key: blobKeys.file("acc_mine", sha1("built")), sha: sha1("built"), size: 5, contentType: "text/css; charset=utf-8" },
    ]);
    expect(ok.routes).toEqual({});
    // a server app's arguments are kept (the gate's shape would drop a key it does not name)
    const server = gate.checkOutput({ version: 1, functions: [{ ...fn, handler: "server", args: ["--port", "${PORT}", ""] }], static: [] });
    expect(server.functions[0]!.args).toEqual(["--port", "${PORT}", ""]);

    const bad = [
      { functions: [{ ...fn, artifact: { ...fn.artifact, prefix: blobKeys.artifactPrefix("dpl_other", "api/hi") } }], static: [] },
      { functions: [{ ...fn, artifact: { ...fn.artifact, files: ["index.mjs", "index.mjs.map"] } }], static: [] },
      { functions: [], static: [file("x.txt", sha1("theirs"), "acc_other")] },
      { functions: [], static: [file("x.txt", sha1("never written"))] },
      { functions: [], static: [file("../x.txt", sha1(uploaded))] },
      { functions: [], static: [file("a.txt", sha1(uploaded)), file("a.txt", sha1("built"))] },
      { functions: "all of them", static: [] },
      { functions: [{ ...fn, args: ["--port", 3000] }], static: [] },
    ];
    for (const output of bad) expect(() => gate.checkOutput(output)).toThrow(GateViolation);
  });

  it("a build process that tries to write elsewhere is stopped, and the build fails with an internal error", async () => {
    // stands in for a build process taken over by tenant code (which runs as the same user)
    const evil = await evilWorker(`
      const on = (m) => {
        if (m.type === "start") send({ type: "blob", id: 1, op: "put", key: "deployments/dpl_victim/functions/api%2Fhi/index.mjs", bytes: new Uint8Array([1, 2, 3]) });
        if (m.type === "blob-reply") send({ type: "log", line: "reply " + JSON.stringify(m) });
      };`);
    const hijacked: Sandbox = { ...sandbox, status: sandbox.status, owner: sandbox.owner, spawn: (spec) => sandbox.spawn({ ...spec, mounts: spec.mounts.map((m) => (m.target === INSIDE.worker ? { ...m, source: evil } : m)) }), close: () => {} };
    const p = await prepareChild({ "api/hi.js": "export default () => new Response('hi');\n" });
    const logs: string[] = [];
    const started = Date.now();
    const result = await runBuildInChild(p.req, { ...p.opts, sandbox: hijacked, onLog: (l) => logs.push(l) });
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(result).toEqual({
      type: "error",
      errors: [{ message: `internal build error: the build process asked to write "deployments/dpl_victim/functions/api%2Fhi/index.mjs", outside this deployment's artifacts and this account's files` }],
    });
    expect(await p.blobs.get("deployments/dpl_victim/functions/api%2Fhi/index.mjs")).toBeNull();
  });

  it("a build process that announces a huge message is stopped before the platform reads it", async () => {
    // 4 GB announced, then bytes as fast as it can: none of it may pile up in the platform
    const evil = await evilWorker(`
      const on = () => {
        const head = Buffer.alloc(4); head.writeUInt32BE(0xfffffff0, 0); ch.write(head);
        const junk = Buffer.alloc(1 << 20, 7); const more = () => { while (ch.write(junk)); ch.once("drain", more); }; more();
      };`);
    const hijacked: Sandbox = { ...sandbox, status: sandbox.status, owner: sandbox.owner, spawn: (spec) => sandbox.spawn({ ...spec, mounts: spec.mounts.map((m) => (m.target === INSIDE.worker ? { ...m, source: evil } : m)) }), close: () => {} };
    const p = await prepareChild({ "api/hi.js": "export default () => new Response('hi');\n" });
    const rss = process.memoryUsage().rss;
    const result = await runBuildInChild(p.req, { ...p.opts, sandbox: hijacked, onLog: () => {} });
    expect(result.type).toBe("error");
    if (result.type === "error") expect(result.errors[0]!.message).toMatch(/broke its channel to the platform: a message of 4294967280 bytes is over the \d+-byte limit/);
    expect(process.memoryUsage().rss - rss).toBeLessThan(64 * 1024 * 1024);
  });
});

/** A build process taken over by tenant code: it speaks the platform's framed channel on fd 3. */
async function evilWorker(body: string): Promise<string> {
  const file = join(await tempDir("ferry-evil-"), "worker.mjs");
  writeFileSync(
    file,
    `import { Socket } from "node:net";
    import { serialize, deserialize } from "node:v8";
    const ch = new Socket({ fd: 3, readable: true, writable: true });
    const send = (m) => { const b = serialize(m); const h = Buffer.alloc(4); h.writeUInt32BE(b.length, 0); ch.write(h); ch.write(b); };
    ${body}
    let buf = Buffer.alloc(0);
    ch.on("data", (d) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 4 && buf.length >= 4 + buf.readUInt32BE(0)) {
        const n = buf.readUInt32BE(0);
        on(deserialize(buf.subarray(4, 4 + n)));
        buf = buf.subarray(4 + n);
      }
    });`,
  );
  return file;
}
