export { hostLabelProblem, MAX_LABEL } from "../../core/config/labels.ts";

/** A host label from what a user typed: `name`, `name.<domain>`, or a URL with scheme and port. */
export function labelOf(input: string, domain: string): string {
  const label = input.trim().toLowerCase().replace(/^https?:\/\//, "").replace(/[:/].*$/, "");
  return label.endsWith(`.${domain}`) ? label.slice(0, -domain.length - 1) : label;
}
