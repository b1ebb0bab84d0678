import { afterAll, describe, expect, it } from "vitest";
import { join } from "node:path";
import { createFsBlobStore } from "../../core/blobs/fs.ts";
import { blobKeys } from "../../core/blobs/port.ts";
import { sha1 } from "../../core/ids.ts";
import type { FileEntry } from "../../core/types.ts";
import { build } from "../../builder/build.ts";
import { cleanupTempDirs, tempDir } from "./helpers.ts";

afterAll(cleanupTempDirs);

/** Redeploys reuse the project's last workspace; changed and removed files must never leak through. */
describe("builder: reused workspaces", () => {
  it("links only what changed, and a removed file is really gone", async () => {
    const blobs = createFsBlobStore(await tempDir("ferry-blobs-"));
    const cacheDir = await tempDir("ferry-cache-");
    const put = async (files: Record<string, string>): Promise<FileEntry[]> => {
      const out: FileEntry[] = [];
      for (const [file, text] of Object.entries(files)) {
        await blobs.put(blobKeys.file("acc", sha1(text)), text);
        out.push({ file, sha: sha1(text), size: Buffer.byteLength(text), mode: 0o100644 });
      }
      return out;
    };
    const run = async (files: FileEntry[], n: number) => {
      const workDir = join(await tempDir("ferry-work-"), "app");
      const r = await build({ deploymentId: `dpl_ws${n}`, accountId: "acc", project: "ws", files, config: {}, buildEnv: {} }, { blobs, log: () => {}, workDir, cacheDir });
      return r;
    };
    const bundleOf = async (r: Awaited<ReturnType<typeof run>>, name: string) => {
      if (r.type !== "success") throw new Error(JSON.stringify(r.errors));
      const fn = r.output.functions.find((f) => f.name === name)!;
      return (await blobs.get(`${fn.artifact.prefix}/index.mjs`))!.toString();
    };

    const v1 = await run(await put({ "api/a.ts": `import { x } from "../lib/x.ts";\nexport default () => new Response(x);\n`, "lib/x.ts": `export const x = "version-one";\n`, "lib/y.ts": `export const y = 1;\n` }), 1);
    expect(await bundleOf(v1, "api/a")).toContain("version-one");

    const v2 = await run(await put({ "api/a.ts": `import { x } from "../lib/x.ts";\nexport default () => new Response(x);\n`, "lib/x.ts": `export const x = "version-two";\n` }), 2);
    const a2 = await bundleOf(v2, "api/a");
    expect(a2).toContain("version-two");
    expect(a2).not.toContain("version-one");

    // lib/y.ts was in the kept workspace but is not part of this deployment
    const v3 = await run(await put({ "api/b.ts": `import { y } from "../lib/y.ts";\nexport default () => new Response(String(y));\n` }), 3);
    expect(v3.type).toBe("error");
    if (v3.type === "error") expect(v3.errors[0]!.message).toContain("lib/y.ts");
  });
});
