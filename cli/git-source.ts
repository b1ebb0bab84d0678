import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gitIn } from "./git-info.ts";
import { CliError } from "./io.ts";
import { sanitizeName } from "./project.ts";

/** `https://host/owner/repo.git#ref`, `git://...`, `ssh://...`, `git@host:owner/repo.git`: a repository, not a folder. */
export const isGitUrl = (s: string) => /^(https?|git|ssh):\/\/[^/]/.test(s) || /^[\w.-]+@[\w.-]+:[^/]/.test(s);

/**
 * `ferry deploy <git URL>[#ref]`: a shallow clone of the repository (the branch or tag after
 * `#`, else its default branch) in a temporary folder, deployed like any folder; the project is
 * named by its config, else by the repository's name.
 */
export async function cloneGitUrl(arg: string, say: (s: string) => void): Promise<{ dir: string; name: string; cleanup: () => Promise<void> }> {
  const hash = arg.indexOf("#");
  const url = hash < 0 ? arg : arg.slice(0, hash);
  const ref = hash < 0 ? undefined : decodeURIComponent(arg.slice(hash + 1));
  if (ref !== undefined && (!ref || ref.startsWith("-"))) throw new CliError(`${JSON.stringify(arg)}: the part after # must name a branch or tag`, "invalid_argument", 2);
  const dir = await mkdtemp(join(tmpdir(), "ferry-clone-"));
  const cleanup = () => rm(dir, { recursive: true, force: true });
  say(`Cloning ${url}${ref ? ` (${ref})` : ""}...`);
  const cloned = await gitIn(tmpdir(), ["-c", "protocol.file.allow=never", "clone", "--quiet", "--depth", "1", "--no-tags", ...(ref ? ["--branch", ref] : []), "--", url, dir]);
  if (cloned === null) {
    await cleanup();
    throw new CliError(`could not clone ${url}${ref ? ` at ${ref}` : ""} (is the URL reachable and the ref a branch or tag?)`, "clone_failed");
  }
  const base = url.replace(/[/]+$/, "").replace(/\.git$/, "").split(/[/:]/).pop() ?? "";
  return { dir, name: sanitizeName(base) || "app", cleanup };
}
