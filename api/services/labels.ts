import { FerryError } from "../../core/errors.ts";
import { hostLabelProblem } from "../../core/config/labels.ts";

export { hostLabelProblem, MAX_LABEL } from "../../core/config/labels.ts";

/** A host label from what a user typed: `name`, `name.<domain>`, or a URL with scheme and port. */
export function labelOf(input: string, domain: string): string {
  const label = input.trim().toLowerCase().replace(/^https?:\/\//, "").replace(/[:/].*$/, "");
  return label.endsWith(`.${domain}`) ? label.slice(0, -domain.length - 1) : label;
}

/**
 * An alias name as a user gave it: `name`, `name.<domain>`, or a URL naming that host (port
 * allowed, nothing after the host). Unlike `labelOf`, which only looks things up, nothing is cut
 * away silently: `atk/../x` or `name:1234` is refused, naming the rule it breaks.
 */
export function aliasLabel(input: string, domain: string): string {
  let host = input.trim().toLowerCase();
  if (/^https?:\/\//.test(host)) {
    let url: URL;
    try {
      url = new URL(host);
    } catch {
      throw new FerryError("invalid_alias", `alias ${JSON.stringify(input)} is not a valid URL`, 400);
    }
    if (url.username || url.password || (url.pathname !== "/" && url.pathname !== "") || url.search || url.hash || /^https?:\/\/[^/]*\/./.test(host)) {
      throw new FerryError("invalid_alias", `alias ${JSON.stringify(input)} must name only a host`, 400);
    }
    host = url.hostname;
  }
  const label = host.endsWith(`.${domain}`) ? host.slice(0, -domain.length - 1) : host;
  const problem = hostLabelProblem(label);
  if (problem) throw new FerryError("invalid_alias", `alias ${JSON.stringify(input)} must be a host label or <label>.${domain}: ${JSON.stringify(label)} ${problem}`, 400);
  return label;
}
