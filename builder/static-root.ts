import { stat } from "node:fs/promises";
import { posix } from "node:path";
import type { FerryConfig } from "../core/config/schema.ts";
import type { PlannedFunction } from "./detect.ts";
import { UserBuildError } from "./errors.ts";
import type { StaticRoot } from "./static-files.ts";
import { workPath } from "./workspace.ts";

async function isDir(workDir: string, rel: string) {
  try {
    return (await stat(workPath(workDir, rel))).isDirectory();
  } catch {
    return false;
  }
}

export interface StaticRootInput {
  workDir: string;
  config: FerryConfig;
  /** uploaded paths */
  files: string[];
  /** a build command ran: its output is on disk, not in the upload */
  buildRan: boolean;
  hasFunctions: boolean;
  server: PlannedFunction | null;
}

/**
 * Picks the static root, in order: ferry.json `outputDirectory`; after a build command, `dist/`
 * then `public/` (unless the server entry lives there); `public/`; the whole folder when there
 * is no code; everything beside `api/` (Vercel's output when there is neither a build nor a
 * `public/`: the project root, without `api/`); nothing for a server app.
 */
export async function chooseStaticRoot(o: StaticRootInput): Promise<StaticRoot> {
  const out = o.config.outputDirectory?.trim().replace(/^\.\//, "").replace(/\/+$/, "");
  if (out !== undefined && out !== "" && out !== ".") {
    const dir = posix.normalize(out);
    if (dir.startsWith("../") || dir === ".." || dir.startsWith("/") || dir.includes("\\")) {
      throw new UserBuildError(`outputDirectory ${JSON.stringify(o.config.outputDirectory)} must be a folder inside the app`);
    }
    if (!(await isDir(o.workDir, dir))) {
      throw new UserBuildError(`outputDirectory "${dir}" was not found${o.buildRan ? " after the build command" : ""}`);
    }
    return { kind: "dir", dir, fromDisk: o.buildRan };
  }
  if (o.buildRan) {
    for (const dir of ["dist", "public"]) {
      if (o.server?.source.startsWith(`${dir}/`)) continue;
      if (await isDir(o.workDir, dir)) return { kind: "dir", dir, fromDisk: true };
    }
  }
  if (o.files.some((f) => f.startsWith("public/"))) return { kind: "dir", dir: "public", fromDisk: false };
  if (!o.hasFunctions && !o.server) return { kind: "whole" };
  if (o.hasFunctions) return { kind: "beside-api" };
  return { kind: "none" };
}

export function describeStaticRoot(root: StaticRoot): string {
  switch (root.kind) {
    case "dir":
      return `${root.dir}/`;
    case "whole":
      return "the app folder";
    case "beside-api":
      return "the app folder (without api/)";
    case "none":
      return "none";
  }
}
