// The encryptor port's contract, run against every implementation: the local AES-256-GCM one and
// the KMS envelope one against moto's KMS on loopback (skipped where moto is not installed).
import { CreateKeyCommand, KMSClient } from "@aws-sdk/client-kms";
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAesEncryptor } from "../../core/crypto/local.ts";
import { createKmsEncryptor } from "../../core/crypto/kms.ts";
import type { Encryptor } from "../../core/crypto/port.ts";
import { FAKE_CREDENTIALS, hasMoto, REGION, startMoto } from "../aws/helpers/moto.ts";

interface Impl {
  make(): Encryptor;
  /** a second encryptor with another key: must not read the first one's values */
  other(): Encryptor;
}

function contract(name: string, impl: () => Impl) {
  describe(`encryptor contract: ${name}`, () => {
    it("round-trips text byte for byte, unicode, empty and large values", async () => {
      const e = impl().make();
      for (const v of ["", "a", "héllo wörld ✓ 🚢", "x".repeat(64 * 1024), randomBytes(3000).toString("latin1")]) {
        expect(await e.decrypt(await e.encrypt(v))).toBe(v);
      }
    });
    it("never stores the plaintext and never repeats a ciphertext", async () => {
      const e = impl().make();
      const a = await e.encrypt("secret-value-123");
      const b = await e.encrypt("secret-value-123");
      expect(a).not.toContain("secret-value-123");
      expect(a).not.toContain(Buffer.from("secret-value-123").toString("base64"));
      expect(a).not.toBe(b);
    });
    it("detects tampering", async () => {
      const e = impl().make();
      const c = await e.encrypt("value");
      const parts = c.split(":");
      const last = Buffer.from(parts.at(-1)!, "base64");
      last[0] ^= 1;
      parts[parts.length - 1] = last.toString("base64");
      await expect(e.decrypt(parts.join(":"))).rejects.toMatchObject({ code: "decrypt_failed" });
      await expect(e.decrypt("not-a-ciphertext")).rejects.toMatchObject({ code: "decrypt_failed" });
    });
    it("another key cannot decrypt", async () => {
      const i = impl();
      const c = await i.make().encrypt("value");
      await expect(i.other().decrypt(c)).rejects.toMatchObject({ code: "decrypt_failed" });
    });
    it("a fresh instance with the same key decrypts (values survive a restart)", async () => {
      const i = impl();
      const c = await i.make().encrypt("persisted");
      expect(await i.make().decrypt(c)).toBe("persisted");
    });
  });
}

const key1 = randomBytes(32);
const key2 = randomBytes(32);
contract("local AES-256-GCM", () => ({ make: () => createAesEncryptor(key1), other: () => createAesEncryptor(key2) }));

const available = await hasMoto();
describe.skipIf(!available)("on moto's KMS", () => {
  let moto: Awaited<ReturnType<typeof startMoto>>;
  let kms: KMSClient;
  let keyA = "";
  let keyB = "";
  beforeAll(async () => {
    moto = await startMoto();
    kms = new KMSClient({ endpoint: moto.endpoint, region: REGION, credentials: FAKE_CREDENTIALS });
    keyA = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
    keyB = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
  }, 30_000);
  afterAll(async () => {
    kms?.destroy();
    await moto?.stop();
  });
  contract("KMS envelope", () => ({ make: () => createKmsEncryptor({ kms, keyId: keyA }), other: () => createKmsEncryptor({ kms, keyId: keyB }) }));

  it("reuses a data key for many values and decrypts each data key once per instance", async () => {
    let calls = 0;
    const counting = new KMSClient({ endpoint: moto.endpoint, region: REGION, credentials: FAKE_CREDENTIALS });
    counting.middlewareStack.add((next) => async (args) => (calls++, next(args)), { step: "initialize" });
    const writer = createKmsEncryptor({ kms: counting, keyId: keyA });
    const values = await Promise.all(Array.from({ length: 20 }, (_, i) => writer.encrypt(`v${i}`)));
    expect(calls).toBe(1);
    const reader = createKmsEncryptor({ kms: counting, keyId: keyA });
    for (let i = 0; i < 20; i++) expect(await reader.decrypt(values[i]!)).toBe(`v${i}`);
    expect(calls).toBe(2);
    counting.destroy();
  });

  it("a value encrypted under another encryption context does not decrypt", async () => {
    const c = await createKmsEncryptor({ kms, keyId: keyA, context: { purpose: "a" } }).encrypt("x");
    await expect(createKmsEncryptor({ kms, keyId: keyA, context: { purpose: "b" } }).decrypt(c)).rejects.toMatchObject({ code: "decrypt_failed" });
  });
});
