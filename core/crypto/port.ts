/**
 * Encrypts values at rest (env vars, secrets). Embedded: AES-256-GCM with a key file under
 * FERRY_HOME. On AWS the same port is backed by KMS.
 */
export interface Encryptor {
  encrypt(plaintext: string): Promise<string>;
  decrypt(ciphertext: string): Promise<string>;
}
