import { z } from "zod";

/** The `git` field of a create-deployment body: what the deployment records of its commit. */
export const gitMetaSchema = z.strictObject({
  sha: z.string().regex(/^[0-9a-f]{40}$/, "must be a 40-character lower-case hex commit sha"),
  branch: z.string().min(1).max(255).optional(),
  message: z.string().max(500).optional(),
  author: z.string().max(200).optional(),
  dirty: z.boolean().optional(),
  repo: z.string().max(1024).optional(),
});

/** `PUT /v1/projects/:name/git`: the production branch, and the repository to link (null unlinks). */
export const gitSettingsBodySchema = z.strictObject({
  productionBranch: z.string().optional(),
  linkedUrl: z.string().max(1024).nullable().optional(),
});

/** `POST /v1/projects/:name/deploy-hooks`: a name to list it by and the branch it deploys. */
export const deployHookBodySchema = z.strictObject({
  name: z.string().trim().min(1).max(100),
  ref: z.string().min(1).max(255),
});
