import { readFile, rename, rm, writeFile, mkdir } from "node:fs/promises";
import { join } from "node:path";
import { sha256 } from "../core/ids.ts";

/** path -> sha of every file in a kept workspace */
export type WorkspaceManifest = Record<string, string>;

const slot = (cacheDir: string, accountId: string, project: string) => join(cacheDir, "workspaces", sha256(`${accountId}/${project}`).slice(0, 24));

/**
 * Takes the project's workspace from the last build, if one was kept, by renaming it onto
 * `workDir` (which must be empty). Redeploys then link only the files that changed instead of
 * all of them. Returns what it holds, or null (a first build, or another build has it).
 */
export async function claimWorkspace(cacheDir: string, accountId: string, project: string, workDir: string): Promise<WorkspaceManifest | null> {
  const dir = slot(cacheDir, accountId, project);
  let manifest: WorkspaceManifest;
  try {
    manifest = JSON.parse(await readFile(`${dir}.json`, "utf8")) as WorkspaceManifest;
  } catch {
    return null;
  }
  try {
    await rm(`${dir}.json`, { force: true });
    await rename(dir, workDir);
    return manifest;
  } catch {
    await rm(dir, { recursive: true, force: true }).catch(() => {});
    return null;
  }
}

/** Keeps a workspace whose files are exactly `manifest` for the project's next build. */
export async function keepWorkspace(cacheDir: string, accountId: string, project: string, workDir: string, manifest: WorkspaceManifest): Promise<void> {
  const dir = slot(cacheDir, accountId, project);
  try {
    await mkdir(join(cacheDir, "workspaces"), { recursive: true });
    await rename(workDir, dir);
    // the manifest goes last: a workspace without one is never trusted
    await writeFile(`${dir}.json`, JSON.stringify(manifest));
  } catch {
    /* another build kept one first; the caller removes ours */
  }
}
