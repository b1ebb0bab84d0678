import { git } from "./run.ts";
import { ensureRepo, repoEnv } from "./repos.ts";

/** Protocols a linked repository may be fetched over: never ext::, file:// or ssh with its options. */
const ALLOWED_PROTOCOLS = "http:https:git";

/**
 * Fetches refs from a project's linked repository into its bare repository, with the same
 * isolated git as everything else (no prompts, no user config, only network protocols). The URL
 * is always the one stored when the project was linked, never one a webhook payload names.
 */
export async function fetchLinked(repo: string, url: string, refspecs: string[]): Promise<void> {
  await ensureRepo(repo);
  await git(["-c", "fetch.recurseSubmodules=false", "-c", "transfer.fsckObjects=true", "fetch", "--quiet", "--no-tags", "--no-write-fetch-head", "--", url, ...refspecs], { env: { ...repoEnv(repo), GIT_ALLOW_PROTOCOL: ALLOWED_PROTOCOLS } });
}
