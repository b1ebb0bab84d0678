import { createReadStream, createWriteStream } from "node:fs";
import { pipeline } from "node:stream/promises";
import { mkdir, readFile, rename, rm, stat, writeFile, readdir } from "node:fs/promises";
import { dirname, join, relative, sep } from "node:path";
import type { Readable } from "node:stream";
import { randomId } from "../ids.ts";
import { assertKey, type BlobStore } from "./port.ts";

/** Blob store on the local filesystem. Writes go to a temp file and are renamed into place, so a
 * reader never sees a partial blob and a crash mid-write leaves nothing behind under the key. */
export function createFsBlobStore(root: string): BlobStore {
  const pathOf = (key: string) => {
    assertKey(key);
    return join(root, ...key.split("/"));
  };
  const tmpDir = join(root, ".tmp");
  /** Writes a temp file and renames it into place; a failed write removes the temp file. */
  const writeThenRename = async (target: string, write: (tmp: string) => Promise<void>) => {
    await mkdir(dirname(target), { recursive: true });
    await mkdir(tmpDir, { recursive: true });
    const tmp = join(tmpDir, `${randomId(16)}.part`);
    try {
      await write(tmp);
      await rename(tmp, target);
    } catch (e) {
      await rm(tmp, { force: true });
      throw e;
    }
  };

  return {
    localPath: pathOf,
    async put(key, body) {
      await writeThenRename(pathOf(key), (tmp) => writeFile(tmp, body));
    },
    async putStream(key, body) {
      let target: string;
      try {
        target = pathOf(key);
      } catch (e) {
        body.destroy();
        throw e;
      }
      await writeThenRename(target, (tmp) => pipeline(body, createWriteStream(tmp, { flags: "wx" })));
    },
    async get(key) {
      try {
        return await readFile(pathOf(key));
      } catch (e) {
        if (isNotFound(e)) return null;
        throw e;
      }
    },
    async getStream(key, range) {
      const path = pathOf(key);
      try {
        const s = await stat(path);
        if (!s.isFile()) return null;
      } catch (e) {
        if (isNotFound(e)) return null;
        throw e;
      }
      return createReadStream(path, range ? { start: range.start, end: range.end } : undefined) as Readable;
    },
    async head(key) {
      try {
        const s = await stat(pathOf(key));
        return s.isFile() ? { size: s.size } : null;
      } catch (e) {
        if (isNotFound(e)) return null;
        throw e;
      }
    },
    async delete(key) {
      await rm(pathOf(key), { force: true });
    },
    async list(prefix) {
      const base = join(root, ...prefix.split("/").filter(Boolean));
      const out: string[] = [];
      const walk = async (dir: string) => {
        let entries;
        try {
          entries = await readdir(dir, { withFileTypes: true });
        } catch (e) {
          if (isNotFound(e)) return;
          throw e;
        }
        for (const ent of entries) {
          const p = join(dir, ent.name);
          if (ent.isDirectory()) await walk(p);
          else out.push(relative(root, p).split(sep).join("/"));
        }
      };
      // a prefix may end mid-name (`logs/abc`); walk its folder and filter
      const dir = prefix.endsWith("/") ? base : dirname(base);
      await walk(dir);
      return out.filter((k) => k.startsWith(prefix) && !k.startsWith(".tmp/")).sort();
    },
  };
}

const isNotFound = (e: unknown) => (e as NodeJS.ErrnoException)?.code === "ENOENT" || (e as NodeJS.ErrnoException)?.code === "ENOTDIR";
