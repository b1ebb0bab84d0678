// Loaded with `node --import` in front of a server app (one that listens on process.env.PORT):
// only ties the app's lifetime to the platform's, leaving the app's own argv and module untouched.
import { watchParent } from "./child-helpers.mjs";

watchParent();
