import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from "node:http";
import { isIP } from "node:net";
import { s3Error } from "./errors.ts";
import type { GrantCache } from "./grants.ts";
import { authorizeS3, deleteObjectsRefusal, isDeleteObjects, s3Target } from "./s3-policy.ts";
import { canonicalRequest, decodeQuery, isAuthQueryParam, parseAuth, signatureMatches, splitTarget, UNSIGNED_PAYLOAD, type RawRequest } from "./sigv4.ts";
import { readBody, relay, withoutHopByHop, type Upstream } from "./upstream.ts";

/** DeleteObjects takes at most 1,000 keys of at most 1 KB each. */
const MAX_DELETE_OBJECTS_BODY = 2 * 1024 * 1024;

/**
 * The S3 side of the gateway. Only the request line and headers are needed to verify an S3
 * request (the payload hash the client signed is in `x-amz-content-sha256`, or is
 * UNSIGNED-PAYLOAD for a presigned URL), so bodies stream through both ways unbuffered; only
 * DeleteObjects' small XML body is read, for the keys it names.
 *
 * The client's authentication (the Authorization header, presigned query parameters) was
 * verified here and is taken off before the request goes on, over the socket only the platform
 * can reach, with a placeholder under the emulator's own key (see `emulatorHeaders`).
 *
 * With `expectContinue` (the request said `Expect: 100-continue`), 100 Continue is sent only
 * once the request is allowed, so a refused upload is never sent at all.
 */
export function s3Handler(deps: { upstream: Upstream; grants: GrantCache; now?: () => number }) {
  return async (req: IncomingMessage, res: ServerResponse, expectContinue = false) => {
    const method = req.method ?? "GET";
    const head = method === "HEAD";
    let bodyRead = false;
    const refuse = (status: number, code: string, message: string) => s3Error(res, status, code, message, { head, close: !bodyRead && hasBody(req) });
    try {
      const url = req.url ?? "";
      if (!url.startsWith("/")) return refuse(400, "InvalidURI", "the request target must be a path");
      const host = hostnameOf(req.headers.host);
      if (host && !isIP(host) && host !== "localhost")
        return refuse(400, "InvalidRequest", `virtual-hosted-style requests (${host}) are not supported: address buckets path-style, http://<endpoint>/<bucket>/<key> (S3Client forcePathStyle: true; FERRY_S3_FORCE_PATH_STYLE says so)`);

      const { rawPath, rawQuery } = splitTarget(url);
      const query = decodeQuery(rawQuery);
      if (query === null) return refuse(400, "InvalidArgument", "the query string is not valid percent-encoding");
      const raw: RawRequest = { method, rawPath, rawQuery, headers: req.headers };
      const parsed = parseAuth(raw, query, "s3", deps.now?.());
      if (!parsed.ok) {
        if (parsed.reason === "missing") return refuse(403, "AccessDenied", "Anonymous access is not allowed: sign requests with the deployment's credentials (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY)");
        if (parsed.reason === "expired") return refuse(403, "AccessDenied", "Request has expired");
        if (parsed.reason === "skewed") return refuse(403, "RequestTimeTooSkewed", `The difference between the request time and the server's time is too large: ${parsed.message}`);
        return refuse(400, req.headers.authorization !== undefined ? "AuthorizationHeaderMalformed" : "AuthorizationQueryParametersError", parsed.message);
      }
      const { auth } = parsed;
      const grant = await deps.grants.get(auth.accessKeyId);
      if (!grant) return refuse(403, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.");
      const claimed = req.headers["x-amz-content-sha256"];
      const payloadHash = auth.kind === "header" ? (typeof claimed === "string" ? claimed : undefined) : (auth.queryPayloadHash ?? UNSIGNED_PAYLOAD);
      if (payloadHash === undefined) return refuse(400, "InvalidRequest", "Missing required header for this request: x-amz-content-sha256");
      if (!signatureMatches(grant.secret, auth, canonicalRequest(raw, query, auth, payloadHash)))
        return refuse(403, "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided. Check your key and signing method.");
      if (payloadHash.startsWith("STREAMING-"))
        return refuse(501, "NotImplemented", "aws-chunked request bodies are not supported by the embedded store: set AWS_REQUEST_CHECKSUM_CALCULATION=WHEN_REQUIRED");

      const target = s3Target(rawPath, rawQuery);
      if (!target) return refuse(400, "InvalidURI", "the path names no bucket");
      const refusal = authorizeS3(method, target, req.headers, grant.resources);
      if (refusal) return refuse(refusal.status, refusal.code, refusal.message);

      let body: Buffer | IncomingMessage | undefined = hasBody(req) ? req : undefined;
      if (expectContinue) res.writeContinue();
      if (isDeleteObjects(method, target)) {
        const buffered = await readBody(req, MAX_DELETE_OBJECTS_BODY);
        bodyRead = buffered !== null;
        if (buffered === null) return refuse(400, "MalformedXML", "the DeleteObjects request is too large");
        const bad = deleteObjectsRefusal(buffered);
        if (bad) return refuse(bad.status, bad.code, bad.message);
        body = buffered;
      }
      const headers = emulatorHeaders(req, body);
      relay(await deps.upstream.send({ method, path: rawPath + forwardedQuery(rawQuery), headers, body }), res);
    } catch {
      refuse(500, "InternalError", "the store gateway could not complete the request");
    }
  };
}

const hasBody = (req: IncomingMessage) => req.headers["transfer-encoding"] !== undefined || Number(req.headers["content-length"] ?? 0) > 0;

/**
 * The client's headers less its authentication (and hop-by-hop ones), with Host as s3rver reads
 * path-style, and a placeholder SigV4 header under the emulator's own key id in place of the
 * client's. s3rver would serve the request unsigned too, but then refuses response-header
 * overrides (`response-content-disposition`, ...); of a V4 header it checks the key id, the
 * date and the payload claim's shape, never the signature.
 */
function emulatorHeaders(req: IncomingMessage, body: Buffer | IncomingMessage | undefined): OutgoingHttpHeaders {
  const headers = withoutHopByHop(req.headers);
  delete headers["x-amz-security-token"];
  const date = new Date().toISOString().replace(/[-:]|\.\d{3}/g, "");
  headers.host = "localhost";
  headers["x-amz-date"] = date;
  const claim = headers["x-amz-content-sha256"];
  if (typeof claim !== "string" || !/^[0-9A-Fa-f]{64}$/.test(claim)) headers["x-amz-content-sha256"] = UNSIGNED_PAYLOAD;
  headers.authorization = `AWS4-HMAC-SHA256 Credential=S3RVER/${date.slice(0, 8)}/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=0`;
  if (Buffer.isBuffer(body)) headers["content-length"] = body.length;
  return headers;
}

/** The query as sent, less the presigned-URL authentication parameters. */
function forwardedQuery(rawQuery: string): string {
  const kept = rawQuery.split("&").filter((part) => {
    if (!part) return false;
    const eq = part.indexOf("=");
    const name = eq === -1 ? part : part.slice(0, eq);
    try {
      return !isAuthQueryParam(decodeURIComponent(name));
    } catch {
      return true;
    }
  });
  return kept.length ? `?${kept.join("&")}` : "";
}

function hostnameOf(host: string | undefined): string | undefined {
  if (!host) return undefined;
  if (host.startsWith("[")) return host.slice(1, host.indexOf("]") === -1 ? undefined : host.indexOf("]"));
  const colon = host.lastIndexOf(":");
  return (colon === -1 ? host : host.slice(0, colon)).toLowerCase();
}
