import * as esbuild from "esbuild";
import { linkSync, mkdirSync } from "node:fs";
import { mkdtemp, mkdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createFsBlobStore } from "../core/blobs/fs.ts";
import { blobKeys } from "../core/blobs/port.ts";
import { sha1 } from "../core/ids.ts";
import type { FileEntry } from "../core/types.ts";
import { build } from "../builder/build.ts";
import { interleaved, fmt, median, type BenchResult } from "./stats.ts";

/** A generated TypeScript app: one function importing a tree of `modules` small modules. */
export function generateApp(modules: number): Record<string, string> {
  const files: Record<string, string> = {};
  for (let i = 0; i < modules; i++) {
    const deps = [2 * i + 1, 2 * i + 2].filter((d) => d < modules);
    files[`lib/m${i}.ts`] = [
      ...deps.map((d) => `import { f${d} } from "./m${d}.ts";`),
      `export interface Shape${i} { id: number; name: string; tags: string[] }`,
      `export function f${i}(x: number): number {`,
      `  const s: Shape${i} = { id: x, name: "m${i}", tags: ["a", "b"] };`,
      `  return s.id + s.tags.length${deps.map((d) => ` + f${d}(x)`).join("")};`,
      `}`,
    ].join("\n");
  }
  files["api/index.ts"] = `import { f0 } from "../lib/m0.ts";\nexport default (req: Request) => Response.json({ v: f0(1) });\n`;
  files["tsconfig.json"] = JSON.stringify({ compilerOptions: { target: "ES2022", module: "ESNext", allowImportingTsExtensions: true, noEmit: true } });
  return files;
}

/** Hard-links each blob into `dir`, one link(2) per file as a first build's workspace does. */
function linkFilesMs(blobRoot: string, keys: string[], dir: string): number {
  mkdirSync(dir);
  const t0 = performance.now();
  keys.forEach((key, i) => linkSync(join(blobRoot, ...key.split("/")), join(dir, String(i))));
  return performance.now() - t0;
}

export async function benchBuilder(opts: { modules?: number; runs?: number } = {}): Promise<BenchResult[]> {
  const modules = opts.modules ?? 1000;
  const runs = opts.runs ?? 7;
  const root = await mkdtemp(join(tmpdir(), "ferry-bench-builder-"));
  try {
    const app = generateApp(modules);
    // raw esbuild reads the same files from disk
    const src = join(root, "src");
    for (const [file, text] of Object.entries(app)) {
      await mkdir(join(src, file, ".."), { recursive: true });
      await writeFile(join(src, file), text);
    }
    // Ferry reads them from its blob store, as after an upload
    const blobs = createFsBlobStore(join(root, "blobs"));
    const files: FileEntry[] = [];
    for (const [file, text] of Object.entries(app)) {
      const sha = sha1(text);
      await blobs.put(blobKeys.file("acc_bench", sha), text);
      files.push({ file, sha, size: Buffer.byteLength(text), mode: 0o100644 });
    }
    let n = 0;
    const raw = () =>
      esbuild.build({ entryPoints: [join(src, "api/index.ts")], bundle: true, platform: "node", format: "esm", target: "node20", sourcemap: "linked", outdir: join(root, `raw-${n++}`), logLevel: "silent" });
    // `project` fixed: a redeploy, which reuses the project's last workspace (the files are already
    // on disk, as they are for raw esbuild); a new project each time: a first build
    const ferry = async (project = "bench") => {
      const workDir = join(root, `work-${n++}`);
      const r = await build(
        { deploymentId: `dpl_bench${n}`, accountId: "acc_bench", project, files, config: {}, buildEnv: {} },
        { blobs, log: () => {}, workDir, cacheDir: join(root, "cache") },
      );
      if (r.type !== "success") throw new Error(`bench build failed: ${JSON.stringify(r.errors)}`);
    };
    await raw();
    await ferry(); // warm both
    const t = await interleaved(runs, raw, () => ferry());
    const first = await interleaved(runs, raw, () => ferry(`bench-first-${n}`));
    const links: number[] = [];
    for (let i = 0; i < 3; i++) links.push(linkFilesMs(join(root, "blobs"), files.map((f) => blobKeys.file("acc_bench", f.sha)), join(root, `links-${i}`)));
    const ratio = t.b / t.a;
    const firstRatio = first.b / first.a;
    return [
      {
        name: `builder: ${modules}-module TypeScript app (redeploy)`,
        ratio,
        target: "<= 1.3x raw esbuild",
        ok: ratio <= 1.3,
        details: { "raw esbuild ms": fmt(t.a), "ferry build ms (redeploy)": fmt(t.b), runs },
      },
      {
        name: `builder: ${modules}-module TypeScript app (first build of a project)`,
        ratio: firstRatio,
        target: "<= 1.3x raw esbuild",
        ok: firstRatio <= 1.3,
        details: {
          "raw esbuild ms": fmt(first.a),
          "ferry first build ms": fmt(first.b),
          // where the difference goes: the redeploy reuses the project's workspace, a first build
          // links every file into a new one
          [`linking the ${files.length} files from the blob store into a new folder on this disk (ms, median of 3)`]: fmt(median(links)),
          runs,
        },
      },
    ];
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}
