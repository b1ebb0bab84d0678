import { cp } from "node:fs/promises";
import { join } from "node:path";
import { ROOT, hostOf, runFerryProcess, type CliResult, type RunningPlatform } from "../../helpers/platform-process.ts";

export const FIXTURES = join(ROOT, "test/fixtures/security");

/**
 * Copies a fixture app into `into` (so nothing is written into the repo) and, when `libAt` is
 * given, the shared `lib/` into it at that path (`api/_lib` for functions, `lib` for a build).
 */
export async function stageApp(app: string, into: string, libAt?: string): Promise<string> {
  const dest = join(into, app.replaceAll("/", "-"));
  await cp(join(FIXTURES, app), dest, { recursive: true });
  if (libAt) await cp(join(FIXTURES, "lib"), join(dest, libAt), { recursive: true });
  return dest;
}

export interface Deployed {
  id: string;
  url: string;
  host: string;
  state: string;
  project: string;
  aliases: string[];
}

/** `ferry <dir> --json ...` with the real CLI; throws with the CLI's output unless it is READY. */
export async function deploy(platform: RunningPlatform, dir: string, args: string[] = []): Promise<{ deployment: Deployed; cli: CliResult; host: string }> {
  const cli = await runFerryProcess([dir, "--json", ...args], { env: { FERRY_HOME: platform.home }, timeoutMs: 150_000 });
  if (cli.code !== 0) throw new Error(`deploying ${dir} failed (exit ${cli.code}):\n${cli.stderr}\n${cli.stdout}`);
  const deployment = JSON.parse(cli.stdout) as Deployed;
  return { deployment, cli, host: hostOf(deployment.url) };
}

export const ferry = (platform: RunningPlatform, args: string[], input?: string) =>
  runFerryProcess(args, { env: { FERRY_HOME: platform.home }, input, timeoutMs: 60_000 });

/** One API call with the admin token. */
export async function api(platform: RunningPlatform, path: string, init: { method?: string; token?: string } = {}) {
  const res = await fetch(`${platform.apiUrl}${path}`, {
    method: init.method ?? "GET",
    headers: { authorization: `Bearer ${init.token ?? platform.token}` },
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  let json: unknown = null;
  try {
    json = JSON.parse(text);
  } catch {
    /* NDJSON or text */
  }
  return { status: res.status, text, json };
}

/** NDJSON lines of an API response, parsed. */
export const ndjson = <T>(text: string): T[] =>
  text
    .split("\n")
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as T);

/** The error code of a router error response (`{ error: { code } }`), or the raw text. */
export function errorCodeOf(text: string): string {
  try {
    const body = JSON.parse(text) as { error?: { code?: string } };
    return body.error?.code ?? text;
  } catch {
    return text;
  }
}
