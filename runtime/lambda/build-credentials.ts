// Credentials for one build on the build worker Lambda. The worker runs tenant code (npm install
// scripts, the build command) in its own process tree, and anything it runs can read what the
// worker can. So the worker's own role may do nothing in the bucket; the coordinator assumes the
// stack's build role for each build with a session policy that narrows it to this build: read the
// account's uploads, write this deployment's artifacts and the account's content-addressed files.
// A hostile build that takes the credentials reaches its own account's uploads and nothing else,
// for the length of a build.
import { AssumeRoleCommand, type STSClient } from "@aws-sdk/client-sts";
import type { BuildRequest } from "../../builder/port.ts";

export interface BuildCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  /** epoch ms */
  expiration: number;
}

/** The session policy of one build: what the build role may do, cut down to its account and deployment. */
export function buildSessionPolicy(opts: { partition: string; bucket: string; accountId: string; deploymentId: string }) {
  const obj = (key: string) => `arn:${opts.partition}:s3:::${opts.bucket}/${key}`;
  const files = `files/${opts.accountId}/`;
  return {
    Version: "2012-10-17",
    Statement: [
      { Sid: "ReadUploads", Effect: "Allow", Action: ["s3:GetObject"], Resource: [obj(`${files}*`)] },
      // a missing key answers 404 (not 403) only with ListBucket on its prefix
      { Sid: "ListUploads", Effect: "Allow", Action: ["s3:ListBucket"], Resource: [`arn:${opts.partition}:s3:::${opts.bucket}`], Condition: { StringLike: { "s3:prefix": [`${files}*`] } } },
      { Sid: "WriteArtifacts", Effect: "Allow", Action: ["s3:PutObject", "s3:AbortMultipartUpload"], Resource: [obj(`deployments/${opts.deploymentId}/functions/*`), obj(`${files}*`)] },
    ],
  };
}

/** STS wants [\w+=,.@-]{2,64} */
export const buildSessionName = (deploymentId: string) => `ferry-build-${deploymentId}`.replace(/[^\w+=,.@-]/g, "-").slice(0, 64);

export async function mintBuildCredentials(opts: { sts: STSClient; roleArn: string; bucket: string; req: Pick<BuildRequest, "accountId" | "deploymentId">; durationSeconds: number }): Promise<BuildCredentials> {
  const partition = opts.roleArn.split(":")[1] || "aws";
  const policy = buildSessionPolicy({ partition, bucket: opts.bucket, accountId: opts.req.accountId, deploymentId: opts.req.deploymentId });
  const r = await opts.sts.send(
    new AssumeRoleCommand({
      RoleArn: opts.roleArn,
      RoleSessionName: buildSessionName(opts.req.deploymentId),
      Policy: JSON.stringify(policy),
      // STS allows 900 s to the role's maximum session (an hour, set on the role)
      DurationSeconds: Math.min(3600, Math.max(900, Math.ceil(opts.durationSeconds))),
    }),
  );
  const c = r.Credentials;
  if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken) throw new Error(`assuming the build role ${opts.roleArn} returned no credentials`);
  return { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken, expiration: c.Expiration ? c.Expiration.getTime() : Date.now() + opts.durationSeconds * 1000 };
}
