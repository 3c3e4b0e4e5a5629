// Typed access to what the auth middleware put on the response.
import type { Response } from "express";
import type { Principal } from "../auth/authenticate.ts";

export function principalOf(res: Response): Principal {
  const p = res.locals["principal"] as Principal | undefined;
  if (!p) throw new Error("route mounted without auth middleware");
  return p;
}
