// Providers, model configs, users (admin) and the caller's personal provider keys.
import { Router } from "express";
import { z } from "zod";
import type { PrismaClient } from "../../generated/prisma/client.ts";
import type { ProviderService } from "../../admin/provider-service.ts";
import { addUser } from "../../admin/user-service.ts";
import {
  createModelConfigSchema,
  createProviderSchema,
  updateModelConfigSchema,
  updateProviderSchema,
  userKeySchema,
} from "../../admin/provider-schemas.ts";
import { parseInput } from "../../domain/validate.ts";
import { text } from "../../../client-kit/fields.ts";
import { principalOf } from "../context.ts";
import { requireAdmin } from "../auth.ts";

export const idParams = z.object({ id: z.uuid() });
export const newUserSchema = z
  .object({ email: z.email().max(320), name: text({ min: 1, max: 200, trim: true }), role: z.enum(["admin", "member"]).default("member") })
  .strict();

export function adminRoutes(prisma: PrismaClient, providers: ProviderService): Router {
  const r = Router();
  const manageProviders = requireAdmin("manage providers and models");
  r.get("/providers", async (_req, res) => {
    res.json({ providers: await providers.listProviders(principalOf(res)) });
  });
  r.post("/providers", manageProviders, async (req, res) => {
    res.status(201).json(await providers.createProvider(principalOf(res), parseInput(createProviderSchema, req.body)));
  });
  r.patch("/providers/:id", manageProviders, async (req, res) => {
    const { id } = parseInput(idParams, req.params, "path");
    res.json(await providers.updateProvider(principalOf(res), id, parseInput(updateProviderSchema, req.body)));
  });

  r.get("/model-configs", async (_req, res) => {
    res.json({ model_configs: await providers.listModels(principalOf(res)) });
  });
  r.post("/model-configs", manageProviders, async (req, res) => {
    res.status(201).json(await providers.createModel(principalOf(res), parseInput(createModelConfigSchema, req.body)));
  });
  r.patch("/model-configs/:id", manageProviders, async (req, res) => {
    const { id } = parseInput(idParams, req.params, "path");
    res.json(await providers.updateModel(principalOf(res), id, parseInput(updateModelConfigSchema, req.body)));
  });

  r.get("/me/provider-keys", async (_req, res) => {
    res.json({ provider_keys: await providers.listUserKeys(principalOf(res)) });
  });
  r.put("/me/provider-keys/:id", async (req, res) => {
    const { id } = parseInput(idParams, req.params, "path");
    res.json(await providers.setUserKey(principalOf(res), id, parseInput(userKeySchema, req.body).api_key));
  });
  r.delete("/me/provider-keys/:id", async (req, res) => {
    const { id } = parseInput(idParams, req.params, "path");
    await providers.deleteUserKey(principalOf(res), id);
    res.status(204).end();
  });

  r.post("/users", requireAdmin("add users"), async (req, res) => {
    res.status(201).json(await addUser(prisma, principalOf(res), parseInput(newUserSchema, req.body)));
  });
  return r;
}
