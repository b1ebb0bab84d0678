import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execFile } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";
import { startAppDataServices, type AppDataServices } from "../../stores/embedded.ts";
import type { LinkedStore } from "../../stores/port.ts";
import { testGrants } from "./helpers.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const EXAMPLE = join(ROOT, "examples/todo");
const CALLER = fileURLToPath(new URL("./fixtures/call-handlers.mjs", import.meta.url));

// Bundled CommonJS (the AWS SDK) calls `require` for node builtins; an ESM bundle needs one.
const BANNER = `import { createRequire as __cr } from "node:module"; const require = __cr(import.meta.url);`;

interface CallResult {
  status: number;
  contentType: string;
  location: string | null;
  json?: any;
  size: number;
  sha256: string;
}

/**
 * Sanity check of examples/todo against real stores: each function file is bundled the way a
 * function is deployed (esbuild, node, esm) and called in a child process whose environment is
 * only what the stores were linked with. The SDK resolves from the repository's node_modules,
 * so the example needs no install of its own.
 */
describe("examples/todo against provisioned stores", () => {
  let services: AppDataServices;
  let home: string;
  let out: string;
  let env: Record<string, string>;
  const bundles: Record<string, string> = {};

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), "ferry-todo-"));
    out = join(home, "bundles");
    const grants = testGrants();
    services = await startAppDataServices(join(home, "platform"), { authorize: grants.authorize });
    const config = JSON.parse(await readFile(join(EXAMPLE, "ferry.json"), "utf8")) as { stores: Record<string, { type: "kv" | "blob" }> };
    const linked: LinkedStore[] = [];
    for (const [name, { type }] of Object.entries(config.stores)) {
      linked.push(await services.provisioner.ensure({ accountId: "acc_example", project: "todo", environment: "preview", name, type }));
    }
    // the env plus the key pair a deployment of the example gets, granted its stores only
    env = grants.access(...linked);
    const entries = { todos: "api/todos.ts", todo: "api/todos/[id].ts", attachment: "api/attachments/[id].ts" };
    await esbuild.build({
      absWorkingDir: EXAMPLE,
      entryPoints: Object.entries(entries).map(([out, file]) => ({ in: file, out })),
      outdir: out,
      outExtension: { ".js": ".mjs" },
      bundle: true,
      platform: "node",
      target: "node20",
      format: "esm",
      banner: { js: BANNER },
      nodePaths: [join(ROOT, "node_modules")],
      logLevel: "silent",
    });
    for (const name of Object.keys(entries)) bundles[name] = join(out, `${name}.mjs`);
  });

  afterAll(async () => {
    await services?.end();
    await rm(home, { recursive: true, force: true });
  });

  /** Calls go in on stdin: a request body can be larger than a command-line argument may be. */
  const call = (bundle: string, calls: Record<string, unknown>[]) =>
    new Promise<CallResult[]>((resolve, reject) => {
      const child = execFile(
        process.execPath,
        [CALLER, bundles[bundle]!],
        { env: { PATH: process.env.PATH ?? "", ...env }, maxBuffer: 1 << 20, timeout: 60_000 },
        (err, stdout, stderr) => (err ? reject(new Error(stderr || err.message)) : resolve(JSON.parse(stdout))),
      );
      child.stdin!.end(JSON.stringify(calls));
    });

  it("creates todos with POST and lists them with GET", async () => {
    const json = { "content-type": "application/json" };
    const [milk, eggs, bad, list] = await call("todos", [
      { method: "POST", path: "/api/todos", headers: json, body: JSON.stringify({ title: "buy milk" }) },
      { method: "POST", path: "/api/todos", headers: json, body: JSON.stringify({ title: "  eggs " }) },
      { method: "POST", path: "/api/todos", headers: json, body: JSON.stringify({ nope: 1 }) },
      { method: "GET", path: "/api/todos" },
    ]);
    expect(milk).toMatchObject({ status: 201, json: { title: "buy milk", done: false } });
    expect(milk!.location).toBe(`/api/todos/${milk!.json.id}`);
    expect(eggs!.json.title).toBe("eggs");
    expect(bad!.status).toBe(400);
    expect(list!.status).toBe(200);
    expect(list!.json).toEqual([milk!.json, eggs!.json]);

    // a new process (a cold start) sees the same data
    const [again] = await call("todos", [{ method: "GET", path: "/api/todos" }]);
    expect(again!.json).toEqual(list!.json);
  });

  it("reads and deletes one todo by route param", async () => {
    const [created] = await call("todos", [{ method: "POST", path: "/api/todos", body: JSON.stringify({ title: "walk" }) }]);
    const id = created!.json.id as string;
    const [one, del, gone, delAgain] = await call("todo", [
      { method: "GET", path: `/api/todos/${id}`, params: { id } },
      { method: "DELETE", path: `/api/todos/${id}`, params: { id } },
      { method: "GET", path: `/api/todos/${id}`, params: { id } },
      { method: "DELETE", path: `/api/todos/${id}`, params: { id } },
    ]);
    expect(one).toMatchObject({ status: 200, json: created!.json });
    expect(del!.status).toBe(204);
    expect(gone!.status).toBe(404);
    expect(delAgain!.status).toBe(404);
  });

  it("stores an attachment from a raw body and streams it back with its content type", async () => {
    const bytes = randomBytes(2 * 1024 * 1024 + 3);
    const sha256 = createHash("sha256").update(bytes).digest("hex");
    const [put, got, missing] = await call("attachment", [
      { method: "PUT", path: "/api/attachments/photo1", params: { id: "photo1" }, headers: { "content-type": "image/png" }, bodyBase64: bytes.toString("base64") },
      { method: "GET", path: "/api/attachments/photo1", params: { id: "photo1" } },
      { method: "GET", path: "/api/attachments/nothing", params: { id: "nothing" } },
    ]);
    expect(put).toMatchObject({ status: 201, json: { id: "photo1", size: bytes.length, contentType: "image/png" } });
    expect(got).toMatchObject({ status: 200, contentType: "image/png", size: bytes.length, sha256 });
    expect(missing!.status).toBe(404);
  });
});
