import { createHash, createHmac, type Hash, type Hmac } from "node:crypto";
import { SignatureV4 } from "@smithy/signature-v4";
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider, SourceData } from "@smithy/types";

/**
 * The few IAM calls the Lambda host makes (CreateRole, PutRolePolicy, GetRole, DeleteRole...),
 * over IAM's Query API signed with SigV4. `@aws-sdk/client-iam` is not among this project's
 * dependencies; this client is small on purpose and should give way to it once it is.
 */
export interface IamClient {
  call(action: string, params: Record<string, string>): Promise<string>;
}

export interface IamClientOptions {
  credentials: AwsCredentialIdentity | AwsCredentialIdentityProvider;
  /** default: IAM's global endpoint */
  endpoint?: string;
  fetch?: typeof fetch;
}

export class IamError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = code;
  }
}

export function createIamClient(opts: IamClientOptions): IamClient {
  const endpoint = new URL(opts.endpoint ?? "https://iam.amazonaws.com/");
  const signer = new SignatureV4({ service: "iam", region: "us-east-1", credentials: opts.credentials, sha256: NodeSha256 });
  const doFetch = opts.fetch ?? fetch;
  return {
    async call(action, params) {
      const body = new URLSearchParams({ Action: action, Version: "2010-05-08", ...params }).toString();
      const signed = await signer.sign({
        method: "POST",
        protocol: endpoint.protocol,
        hostname: endpoint.hostname,
        port: endpoint.port ? Number(endpoint.port) : undefined,
        path: endpoint.pathname,
        headers: { host: endpoint.host, "content-type": "application/x-www-form-urlencoded; charset=utf-8" },
        body,
      });
      const res = await doFetch(endpoint, { method: "POST", headers: signed.headers as Record<string, string>, body });
      const text = await res.text();
      if (!res.ok) throw new IamError(xmlValue(text, "Code") ?? `Http${res.status}`, xmlValue(text, "Message") ?? text.slice(0, 300), res.status);
      return text;
    },
  };
}

/** The text of the first `<tag>` in an IAM response (its documents are flat enough for this). */
/** SHA-256 (or HMAC-SHA-256 with a secret) in the shape SignatureV4 asks for, on node:crypto. */
class NodeSha256 {
  private h: Hash | Hmac;
  constructor(private readonly secret?: SourceData) {
    this.h = this.fresh();
  }
  private fresh() {
    return this.secret === undefined ? createHash("sha256") : createHmac("sha256", toBytes(this.secret));
  }
  update(data: SourceData) {
    this.h.update(toBytes(data));
  }
  async digest() {
    return new Uint8Array(this.h.digest());
  }
  reset() {
    this.h = this.fresh();
  }
}

const toBytes = (d: SourceData): Uint8Array => (typeof d === "string" ? Buffer.from(d, "utf8") : ArrayBuffer.isView(d) ? new Uint8Array(d.buffer, d.byteOffset, d.byteLength) : new Uint8Array(d));

export function xmlValue(xml: string, tag: string): string | undefined {
  const m = new RegExp(`<${tag}>([^<]*)</${tag}>`).exec(xml);
  return m ? decodeXml(m[1]!) : undefined;
}

const decodeXml = (s: string) => s.replace(/&(lt|gt|quot|apos|amp);/g, (_, e: string) => ({ lt: "<", gt: ">", quot: '"', apos: "'", amp: "&" })[e]!);
