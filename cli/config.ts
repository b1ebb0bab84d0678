import { readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { CliError, type Io } from "./io.ts";

export interface Target {
  apiUrl: string;
  token: string;
  /** where the values came from, for error messages */
  source: string;
}

const readJson = async <T>(path: string): Promise<T | null> => {
  try {
    return JSON.parse(await readFile(path, "utf8")) as T;
  } catch {
    return null;
  }
};

/**
 * Finds the API and token. Precedence: flag > env (FERRY_API_URL, FERRY_TOKEN) > the embedded
 * platform under FERRY_HOME (server.json + credentials.json) > ~/.ferry/config.json.
 */
export async function resolveTarget(io: Io, flags: { api?: string; token?: string }): Promise<Target> {
  const home = resolve(io.env.FERRY_HOME || join(homedir(), ".ferry"));
  const server = await readJson<{ apiUrl?: string }>(join(home, "server.json"));
  const creds = await readJson<{ token?: string }>(join(home, "credentials.json"));
  const config = await readJson<{ apiUrl?: string; token?: string }>(join(home, "config.json"));

  const apiUrl = flags.api || io.env.FERRY_API_URL || server?.apiUrl || config?.apiUrl;
  const token = flags.token || io.env.FERRY_TOKEN || creds?.token || config?.token;
  if (!apiUrl) {
    throw new CliError(`no Ferry API found: start one with \`npm start\` (FERRY_HOME=${home}), or pass --api / set FERRY_API_URL`, "no_api");
  }
  if (!token) throw new CliError(`no token: pass --token, set FERRY_TOKEN, or run against the embedded platform in ${home}`, "no_token");
  return { apiUrl: apiUrl.replace(/\/+$/, ""), token, source: flags.api ? "--api" : io.env.FERRY_API_URL ? "FERRY_API_URL" : server?.apiUrl ? join(home, "server.json") : "config" };
}
