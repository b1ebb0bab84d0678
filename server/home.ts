import type { SandboxStatus } from "../sandbox/port.ts";
import { chmod, mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join, resolve } from "node:path";

/** Where the embedded platform keeps everything: metadata, blobs, caches, credentials. */
export const defaultHome = () => resolve(process.env.FERRY_HOME ?? join(homedir(), ".ferry"));

export const homePaths = (home: string) => ({
  home,
  metadata: join(home, "metadata"),
  blobs: join(home, "blobs"),
  builds: join(home, "builds"),
  buildCache: join(home, "cache", "builds"),
  functionCache: join(home, "cache", "functions"),
  logs: join(home, "logs"),
  serverJson: join(home, "server.json"),
  credentials: join(home, "credentials.json"),
  /** AES-256 key that encrypts env values and secrets at rest (0600) */
  secretKey: join(home, "secret.key"),
});

export interface ServerInfo {
  apiUrl: string;
  routerUrl: string;
  domain: string;
  pid: number;
  /** how tenant code is contained here; `mode: "none"` means it is not */
  sandbox?: SandboxStatus;
}

export interface Credentials {
  token: string;
  accountId: string;
}

/** Writes JSON atomically (temp + rename) with the given mode, so readers never see half a file. */
export async function writeJsonFile(path: string, value: unknown, mode = 0o644) {
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(value, null, 2) + "\n", { mode });
  await chmod(tmp, mode);
  await rename(tmp, path);
}

export async function readJsonFile<T>(path: string): Promise<T | null> {
  try {
    return JSON.parse(await readFile(path, "utf8")) as T;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw e;
  }
}

export async function ensureHome(home: string) {
  await mkdir(home, { recursive: true, mode: 0o700 });
}

export const removeFile = (path: string) => rm(path, { force: true });
