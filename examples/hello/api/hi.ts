// A Web handler: Request in, Response out. Served at /api/hi.
export default (req: Request) => Response.json({ message: "hi from ferry", method: req.method });
