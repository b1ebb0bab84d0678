import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { FerryError } from "../errors.ts";
import type { Encryptor } from "./port.ts";

const VERSION = "v1";

/** AES-256-GCM with a random 96-bit IV per value; the auth tag makes tampering detectable. */
export function createAesEncryptor(key: Buffer): Encryptor {
  if (key.length !== 32) throw new Error("encryption key must be 32 bytes");
  return {
    async encrypt(plaintext) {
      const iv = randomBytes(12);
      const cipher = createCipheriv("aes-256-gcm", key, iv);
      const ct = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
      return [VERSION, iv.toString("base64"), cipher.getAuthTag().toString("base64"), ct.toString("base64")].join(":");
    },
    async decrypt(ciphertext) {
      const [v, iv, tag, ct] = ciphertext.split(":");
      if (v !== VERSION || !iv || !tag || ct === undefined) throw new FerryError("decrypt_failed", "stored value is not in a known encrypted format", 500);
      try {
        const d = createDecipheriv("aes-256-gcm", key, Buffer.from(iv, "base64"));
        d.setAuthTag(Buffer.from(tag, "base64"));
        return Buffer.concat([d.update(Buffer.from(ct, "base64")), d.final()]).toString("utf8");
      } catch {
        throw new FerryError("decrypt_failed", "stored value could not be decrypted (wrong platform key?)", 500);
      }
    },
  };
}

/** Loads the platform key from `path`, creating it (0600) on first use. */
export async function loadOrCreateKey(path: string): Promise<Buffer> {
  try {
    const raw = (await readFile(path, "utf8")).trim();
    const key = Buffer.from(raw, "base64");
    if (key.length !== 32) throw new Error(`${path} does not hold a 32-byte base64 key`);
    return key;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
  }
  await mkdir(dirname(path), { recursive: true });
  const key = randomBytes(32);
  await writeFile(path, key.toString("base64") + "\n", { mode: 0o600, flag: "wx" }).catch(async (e) => {
    if ((e as NodeJS.ErrnoException).code === "EEXIST") return; // another process won the race
    throw e;
  });
  await chmod(path, 0o600);
  return loadOrCreateKey(path);
}
