import { createHash } from "node:crypto";
import { hostLabelProblem, MAX_LABEL } from "../core/config/labels.ts";

/**
 * The stable preview alias of a branch: `<project>-git-<branch>`, the branch lower-cased with
 * everything but letters and digits turned into single dashes. A label that would pass 63
 * characters, or a branch with nothing left after cleaning, ends in a short hash of the real
 * branch name instead, so two long branches never share an alias.
 */
export function branchLabel(project: string, branch: string): string {
  const clean = branch.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "");
  const base = `${project}-git-`;
  let label = base + clean;
  if (!clean || label.length > MAX_LABEL || hostLabelProblem(label)) {
    const hash = createHash("sha256").update(branch).digest("hex").slice(0, 6);
    const room = MAX_LABEL - base.length - hash.length - 1;
    const cut = clean.slice(0, Math.max(0, room)).replace(/-+$/, "");
    label = cut ? `${base}${cut}-${hash}` : `${base}${hash}`;
  }
  return label;
}

/** `refs/heads/feature/x` -> `feature/x`; null for anything that is not a branch. */
export const branchOf = (ref: string) => (ref.startsWith("refs/heads/") ? ref.slice("refs/heads/".length) : null);
