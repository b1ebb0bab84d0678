import { FerryError } from "../core/errors.ts";
import { isAddressLiteral, literalHostProblem, NonPublicAddressError, resolvePublic, type Resolve } from "../core/net/public-address.ts";
import { git } from "./run.ts";
import { ensureRepo, repoEnv } from "./repos.ts";

/** Protocols a linked repository may be fetched over: never ext::, file:// or ssh with its options. */
const ALLOWED_PROTOCOLS = "http:https:git";
const DEFAULT_PORTS: Record<string, string> = { "http:": "80", "https:": "443", "git:": "9418" };

export interface FetchNet {
  /** the operator's FERRY_ALLOW_PRIVATE_GIT: linked repositories on loopback or private networks */
  allowPrivate?: boolean;
  resolve?: Resolve;
}

/**
 * Fetches refs from a project's linked repository into its bare repository, with the same
 * isolated git as everything else (no prompts, no user config, only network protocols). The URL
 * is always the one stored when the project was linked, never one a webhook payload names.
 */
export async function fetchLinked(repo: string, url: string, refspecs: string[], net: FetchNet = {}): Promise<void> {
  const { target, config } = await pinnedRemote(url, net);
  await ensureRepo(repo);
  await git([...config, "-c", "fetch.recurseSubmodules=false", "-c", "transfer.fsckObjects=true", "fetch", "--quiet", "--no-tags", "--no-write-fetch-head", "--", target, ...refspecs], { env: { ...repoEnv(repo), GIT_ALLOW_PROTOCOL: ALLOWED_PROTOCOLS } });
}

let curlResolve: Promise<boolean> | undefined;
const gitHasCurlResolve = () =>
  (curlResolve ??= git(["version"]).then(
    (out) => {
      const [major = 0, minor = 0] = (/(\d+)\.(\d+)/.exec(out.toString()) ?? []).slice(1).map(Number);
      return major > 2 || (major === 2 && minor >= 37);
    },
    () => false,
  ));

const refused = (message: string) => new FerryError("non_public_address", `${message} (linked repositories are fetched from public addresses only)`, 422);

/**
 * The linked URL's host resolved once and checked, and what makes git connect to exactly those
 * addresses (no second lookup git could get another answer from): curl's resolve list for
 * http(s), the address itself in a git:// URL. Redirects are not followed: one could lead
 * anywhere.
 */
export async function pinnedRemote(url: string, net: FetchNet = {}): Promise<{ target: string; config: string[] }> {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new FerryError("invalid_repo_url", `the linked repository URL ${JSON.stringify(url)} is not a URL`, 422);
  }
  if (!DEFAULT_PORTS[u.protocol]) throw new FerryError("invalid_repo_url", `the linked repository URL ${JSON.stringify(url)} must be an https://, http:// or git:// URL`, 422);
  const host = u.hostname;
  const literal = net.allowPrivate ? null : literalHostProblem(host);
  if (literal) throw refused(`the linked repository's host ${host} ${literal}`);
  if (isAddressLiteral(host)) return { target: u.href, config: ["-c", "http.followRedirects=false"] };
  let addresses: string[];
  try {
    addresses = (await resolvePublic(host, net.resolve, net.allowPrivate)).map((a) => (a.family === 6 ? `[${a.address}]` : a.address));
  } catch (e) {
    if (e instanceof NonPublicAddressError) throw refused(e.message);
    throw new FerryError("repo_unreachable", `could not resolve the linked repository's host ${host}: ${(e as Error).message}`, 422);
  }
  if (u.protocol === "git:") {
    u.hostname = addresses[0]!;
    return { target: u.href, config: [] };
  }
  // older git ignores http.curloptResolve and would look the name up again itself
  if (!net.allowPrivate && !(await gitHasCurlResolve())) throw new FerryError("git_too_old", "fetching a linked repository over http(s) safely needs git 2.37 or newer on the platform", 422);
  const port = u.port || DEFAULT_PORTS[u.protocol];
  // TLS still checks the certificate against the name in the URL
  return { target: u.href, config: ["-c", `http.curloptResolve=${host}:${port}:${addresses.join(",")}`, "-c", "http.followRedirects=false"] };
}
