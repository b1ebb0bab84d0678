/** The last path segment of the request URL: the `[id]` of `api/users/[id].ts`. */
export const lastSegment = (req: Request) => decodeURIComponent(new URL(req.url).pathname.split("/").filter(Boolean).pop() ?? "");

export const notFound = (what: string) => Response.json({ error: `${what} not found` }, { status: 404 });
