// Shared by several functions: each function's bundle gets its own copy of this module.
export interface User {
  id: string;
  name: string;
}

const users = new Map<string, User>([
  ["1", { id: "1", name: "Ada" }],
  ["2", { id: "2", name: "Grace" }],
]);

export const listUsers = (): User[] => [...users.values()];
export const findUser = (id: string): User | undefined => users.get(id);

export function addUser(name: string): User {
  const user = { id: String(users.size + 1), name };
  users.set(user.id, user);
  return user;
}
