import pkg from "../package.json" with { type: "json" };

export default () => Response.json({ ok: true, app: pkg.name, node: process.version });
