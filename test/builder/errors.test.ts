import { afterAll, describe, expect, it } from "vitest";
import { createBuilder } from "../../builder/build.ts";
import { toBuildErrors, warningLines } from "../../builder/esbuild-errors.ts";
import { buildDir, cleanupTempDirs, fixture, tempDir } from "./helpers.ts";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";

afterAll(cleanupTempDirs);

const errorsOf = async (name: string, opts: Parameters<typeof buildDir>[1] = {}) => {
  const run = await buildDir(fixture(name), opts);
  if (run.result.type !== "error") throw new Error(`expected ${name} to fail`);
  return { errors: run.result.errors, logs: run.logs };
};

describe("build errors are results, with the user's file and position", () => {
  it("syntax error: file:line:column and esbuild's message", async () => {
    const { errors, logs } = await errorsOf("syntax-error");
    expect(errors).toEqual([{ message: 'api/hi.ts:3:29: ERROR: Expected ")" but found ";"', file: "api/hi.ts", line: 3, column: 29 }]);
    expect(logs).toContain('Error: api/hi.ts:3:29: ERROR: Expected ")" but found ";"');
    expect(logs.at(-1)).toMatch(/^Build failed after/);
  });

  it("missing relative import names the import and the importing file", async () => {
    const { errors } = await errorsOf("missing-import");
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ file: "api/hi.ts", line: 1 });
    expect(errors[0]!.message).toBe('api/hi.ts:1:22: ERROR: Could not resolve "./nope"');
  });

  it("missing package hints at package.json", async () => {
    const { errors } = await errorsOf("missing-package");
    expect(errors[0]!.message).toMatch(/^api\/hi\.ts:1:21: ERROR: Could not resolve "left-pad" \(is it listed in package\.json dependencies\?\)$/);
  });

  it("a package with a native addon fails the build naming the package", async () => {
    const { errors, logs } = await errorsOf("native-addon");
    expect(logs.some((l) => l.startsWith("Installing dependencies: npm install"))).toBe(true);
    expect(errors).toHaveLength(1);
    expect(errors[0]!.message).toMatch(/^package "fake-native" contains a native addon \((binding\.gyp|build\/Release\/fake\.node)\), which Ferry cannot bundle/);
  });

  it("a function over the size limit fails naming the function and its size", async () => {
    const small = createBuilder({ limits: { maxUnzippedBytes: 500 } });
    const { errors } = await errorsOf("api-ts", { builder: small });
    expect(errors).toHaveLength(1);
    expect(errors[0]!.message).toMatch(/^function api\/\S+ is [\d.]+ (kB|B) unzipped, over the 500 B limit$/);
  });

  it("the zipped limit is checked with a gzip estimate", async () => {
    const small = createBuilder({ limits: { maxZippedBytes: 300 } });
    const { errors } = await errorsOf("api-ts", { builder: small });
    expect(errors[0]!.message).toMatch(/^function api\/\S+ is \d+ B zipped, over the 300 B limit$/);
  });

  it("a function file name that cannot be stored is a user error", async () => {
    const dir = await tempDir("ferry-app-");
    await mkdir(join(dir, "api"));
    await writeFile(join(dir, "api", "it's.ts"), "export default () => new Response('x')");
    const run = await buildDir(dir);
    expect(run.result.type).toBe("error");
    if (run.result.type === "error") expect(run.result.errors[0]).toMatchObject({ file: "api/it's.ts" });
  });

  it("a function that exports no handler fails the build naming the file; a usable one beside it is fine", async () => {
    const dir = await tempDir("ferry-app-");
    await mkdir(join(dir, "api"));
    await writeFile(join(dir, "api", "ok.js"), "export const GET = () => new Response('ok')");
    await writeFile(join(dir, "api", "boot.js"), "console.error('cannot start'); process.exit(3)");
    await writeFile(join(dir, "api", "helpers.mjs"), "export const add = (a, b) => a + b");
    const run = await buildDir(dir);
    expect(run.result.type).toBe("error");
    if (run.result.type !== "error") return;
    expect(run.result.errors.map((e) => e.file).sort()).toEqual(["api/boot.js", "api/helpers.mjs"]);
    expect(run.result.errors.find((e) => e.file === "api/helpers.mjs")!.message).toMatch(/exports no handler \(found: add\)/);
  });
});

describe("esbuild messages", () => {
  const loc = (file: string) => ({ file, line: 2, column: 4, length: 1, lineText: "", namespace: "", suggestion: "" });
  const msg = (text: string, file?: string) => ({ id: "", pluginName: "", text, location: file ? loc(file) : null, notes: [], detail: undefined });

  it("a .node file esbuild cannot load names its package", () => {
    const [e] = toBuildErrors([msg('No loader is configured for ".node" files: node_modules/@scope/sharp/build/Release/sharp.node', "node_modules/@scope/sharp/lib/index.js")]);
    expect(e!.message).toMatch(/package "@scope\/sharp" contains a native addon \(node_modules\/@scope\/sharp\/build\/Release\/sharp\.node\), which Ferry cannot bundle/);
  });

  it("warnings about the app are logged, those in node_modules counted", () => {
    expect(warningLines([msg("Comparison with -0", "api/a.ts"), msg("dynamic require", "node_modules/x/index.js"), msg("no location")])).toEqual([
      "api/a.ts:2:5: WARNING: Comparison with -0",
      "WARNING: no location",
      "1 warning in node_modules not shown",
    ]);
  });
});

describe("dependency installs", () => {
  it("a failed install is an error result carrying npm's error text", async () => {
    const run = await buildDir(fixture("install-error"));
    expect(run.result.type).toBe("error");
    if (run.result.type !== "error") return;
    const message = run.result.errors[0]!.message;
    expect(message).toMatch(/^dependency install failed \(npm install --no-audit --no-fund --no-update-notifier --ignore-scripts exited with code \d+\):\nnpm error/);
    expect(message).toContain("gone-1.0.0.tgz");
  });
});
