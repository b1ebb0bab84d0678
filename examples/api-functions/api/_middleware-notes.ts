// Files and folders starting with "_" are not functions: a place for helpers next to the handlers.
export const note = "not a route";
