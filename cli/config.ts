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

/** A JSON file's value, or null when it is missing or not JSON. */
export const readJson = async <T>(path: string): Promise<T | null> => {
  try {
    return JSON.parse(await readFile(path, "utf8")) as T;
  } catch {
    return null;
  }
};

/**
 * Finds the API and token. Precedence: flag > env (FERRY_API_URL, FERRY_TOKEN) > the config file
 * `ferry login` writes ($FERRY_HOME/config.json) > the embedded platform running under FERRY_HOME
 * (server.json + credentials.json), the default.
 */
export async function resolveTarget(io: Io, flags: { api?: string; token?: string }): Promise<Target> {
  const home = resolve(io.env.FERRY_HOME || join(homedir(), ".ferry"));
  const server = await readJson<{ apiUrl?: string }>(join(home, "server.json"));
  const creds = await readJson<{ token?: string }>(join(home, "credentials.json"));
  const config = await readJson<{ apiUrl?: string; token?: string }>(join(home, "config.json"));

  // the saved login and the embedded platform are each taken as a pair, never mixed
  const fallback = config?.apiUrl ? { apiUrl: config.apiUrl, token: config.token } : { apiUrl: server?.apiUrl, token: creds?.token };
  const apiUrl = flags.api || io.env.FERRY_API_URL || fallback.apiUrl;
  const token = flags.token || io.env.FERRY_TOKEN || fallback.token;
  if (!apiUrl) {
    throw new CliError(`no Ferry API found: start one with \`npm start\` (FERRY_HOME=${home}), or pass --api / set FERRY_API_URL`, "no_api");
  }
  if (!token) throw new CliError(`no token: pass --token, set FERRY_TOKEN, or run against the embedded platform in ${home}`, "no_token");
  return { apiUrl: apiUrl.replace(/\/+$/, ""), token, source: flags.api ? "--api" : io.env.FERRY_API_URL ? "FERRY_API_URL" : config?.apiUrl ? join(home, "config.json") : join(home, "server.json") };
}
