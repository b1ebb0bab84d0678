import { DecryptCommand, GenerateDataKeyCommand, type KMSClient } from "@aws-sdk/client-kms";
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { FerryError } from "../errors.ts";
import type { Encryptor } from "./port.ts";

const VERSION = "kms1";

export interface KmsEncryptorOptions {
  kms: KMSClient;
  /** key id, ARN or alias of the platform's KMS key */
  keyId: string;
  /** bound into every data key: a ciphertext only decrypts with the same context */
  context?: Record<string, string>;
  /** how long one data key encrypts new values (default 5 min) and for how many (default 10,000) */
  dataKeyMaxAgeMs?: number;
  dataKeyMaxUses?: number;
  /** decrypted data keys kept in memory (default 1,000) */
  cacheSize?: number;
  now?: () => number;
}

/**
 * Envelope encryption under a KMS key: a KMS data key (AES-256) encrypts values locally with
 * AES-256-GCM, and only the KMS-encrypted data key is stored beside them. KMS's own Encrypt takes
 * at most 4 KB, less than a deployment's whole env can be; envelopes have no limit, and with data
 * keys reused for a while and decrypted ones cached, a router decrypting envs costs one KMS call
 * per data key and instance rather than one per request.
 *
 * Stored form: `kms1:<encrypted data key>:<iv>:<tag>:<ciphertext>` (base64 parts).
 */
export function createKmsEncryptor(opts: KmsEncryptorOptions): Encryptor {
  const context = opts.context ?? { purpose: "ferry-secrets" };
  const maxAge = opts.dataKeyMaxAgeMs ?? 5 * 60_000;
  const maxUses = opts.dataKeyMaxUses ?? 10_000;
  const cacheSize = opts.cacheSize ?? 1_000;
  const now = opts.now ?? Date.now;
  type DataKey = { plain: Buffer; wrapped: string; at: number; uses: number };
  let current: DataKey | null = null;
  let pending: Promise<DataKey> | null = null;
  const keys = new Map<string, Promise<Buffer>>();

  async function dataKey(): Promise<DataKey> {
    if (current && now() - current.at < maxAge && current.uses < maxUses) return current;
    pending ??= opts.kms
      .send(new GenerateDataKeyCommand({ KeyId: opts.keyId, KeySpec: "AES_256", EncryptionContext: context }))
      .then((r): DataKey => {
        const plain = Buffer.from(r.Plaintext!);
        const wrapped = Buffer.from(r.CiphertextBlob!).toString("base64");
        keys.set(wrapped, Promise.resolve(plain));
        const k: DataKey = { plain, wrapped, at: now(), uses: 0 };
        current = k;
        return k;
      })
      .finally(() => (pending = null));
    return pending;
  }

  function unwrap(wrapped: string): Promise<Buffer> {
    let k = keys.get(wrapped);
    if (!k) {
      k = opts.kms.send(new DecryptCommand({ CiphertextBlob: Buffer.from(wrapped, "base64"), EncryptionContext: context, KeyId: opts.keyId })).then((r) => Buffer.from(r.Plaintext!));
      keys.set(wrapped, k);
      k.catch(() => keys.delete(wrapped));
      // oldest first out; a Map keeps insertion order
      if (keys.size > cacheSize) keys.delete(keys.keys().next().value!);
    }
    return k;
  }

  return {
    async encrypt(plaintext) {
      const key = await dataKey();
      key.uses++;
      const iv = randomBytes(12);
      const cipher = createCipheriv("aes-256-gcm", key.plain, iv);
      // the wrapped key is authenticated too, so a value cannot be moved under another key
      cipher.setAAD(Buffer.from(key.wrapped));
      const ct = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
      return [VERSION, key.wrapped, iv.toString("base64"), cipher.getAuthTag().toString("base64"), ct.toString("base64")].join(":");
    },
    async decrypt(ciphertext) {
      const [v, wrapped, iv, tag, ct] = ciphertext.split(":");
      if (v !== VERSION || !wrapped || !iv || !tag || ct === undefined) throw new FerryError("decrypt_failed", "stored value is not in a known encrypted format", 500);
      let key: Buffer;
      try {
        key = await unwrap(wrapped);
      } catch (e) {
        const name = (e as Error).name;
        if (name === "InvalidCiphertextException" || name === "IncorrectKeyException" || name === "AccessDeniedException") {
          throw new FerryError("decrypt_failed", `stored value could not be decrypted (${name})`, 500);
        }
        throw e;
      }
      try {
        const d = createDecipheriv("aes-256-gcm", key, Buffer.from(iv, "base64"));
        d.setAAD(Buffer.from(wrapped));
        d.setAuthTag(Buffer.from(tag, "base64"));
        return Buffer.concat([d.update(Buffer.from(ct, "base64")), d.final()]).toString("utf8");
      } catch {
        throw new FerryError("decrypt_failed", "stored value could not be decrypted (tampered or wrong key)", 500);
      }
    },
  };
}
