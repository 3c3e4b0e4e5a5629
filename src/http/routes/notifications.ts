// /api/v1/notifications (the caller's inbox), /api/v1/me/webhook (where they are
// also POSTed) and /api/v1/organization (settings).
import { Router } from "express";
import { z } from "zod";
import type { AppDeps } from "../deps.ts";
import { principalOf } from "../context.ts";
import { idempotent } from "../idempotency.ts";
import { parseInput } from "../../domain/validate.ts";
import { requireAdmin } from "../auth.ts";
import { isAdmin } from "../../auth/authenticate.ts";
import { AppError } from "../../domain/errors.ts";
import { isWebhookUrl } from "../../domain/webhook-signature.ts";
import { text } from "../../../client-kit/fields.ts";

export const listNotificationsQuery = z
  .object({ limit: z.coerce.number().int().min(1).max(200).default(50), unread: z.enum(["true", "false"]).optional(), before: z.uuid().optional() })
  .strict();
export const notificationParams = z.object({ id: z.uuid() });
export const orgSettingsSchema = z
  .object({ auto_archive_days: z.number().int().min(0).max(3650).optional(), retention_days: z.number().int().min(0).max(36500).optional() })
  .strict();

/** `acceptsUrl` refuses hosts that are non-public on their face; names are checked when a delivery connects. */
export const webhookBody = (acceptsUrl: (url: string) => boolean) =>
  z
    .object({
      url: text({ max: 2048 })
        .refine(isWebhookUrl, "must be an http:// or https:// URL")
        .refine(acceptsUrl, { message: "must not point at a loopback, private or link-local address", when: (p) => p.issues.length === 0 }),
      // The receiver's copy signs nothing if it is guessable.
      secret: text({ min: 16, max: 256 }).optional(),
    })
    .strict();

export function notificationRoutes(deps: AppDeps): Router {
  const r = Router();
  const webhookSchema = webhookBody((url) => deps.webhookDelivery.acceptsUrl(url));
  r.get("/notifications", async (req, res) => {
    const q = parseInput(listNotificationsQuery, req.query, "query");
    res.json(await deps.notifications.list(principalOf(res), { limit: q.limit, unreadOnly: q.unread === "true", before: q.before }));
  });
  r.post(
    "/notifications/read-all",
    idempotent(deps.idempotency, "notification:read_all", (_req, res) => ({
      request: {},
      run: async () => ({ status: 200, body: await deps.notifications.markAllRead(principalOf(res)) }),
    })),
  );
  r.post(
    "/notifications/:id/read",
    idempotent(deps.idempotency, "notification:read", (req, res) => {
      const { id } = parseInput(notificationParams, req.params, "path");
      return { request: { notification_id: id }, run: async () => ({ status: 200, body: await deps.notifications.markRead(principalOf(res), id) }) };
    }),
  );
  r.get("/me/webhook", async (_req, res) => {
    res.json(await deps.webhookSettings.get(principalOf(res)));
  });
  r.put("/me/webhook", async (req, res) => {
    const b = parseInput(webhookSchema, req.body);
    res.json(await deps.webhookSettings.set(principalOf(res), { url: b.url, secret: b.secret }));
  });
  // One signed `ping`, sent now, so a user can check their receiver and secret.
  r.post(
    "/me/webhook/test",
    idempotent(deps.idempotency, "webhook:test", (_req, res) => ({
      request: {},
      run: async () => {
        const p = principalOf(res);
        const result = await deps.webhookDelivery.ping(p.userId);
        if (!result) throw new AppError("conflict", "no webhook is set: PUT /api/v1/me/webhook first");
        // Status codes and network errors would make the test a port scanner's oracle: members learn only the outcome.
        return { status: 200, body: isAdmin(p) ? result : { delivered: result.delivered } };
      },
    })),
  );
  r.delete("/me/webhook", async (_req, res) => {
    res.json(await deps.webhookSettings.remove(principalOf(res)));
  });
  r.get("/organization", async (_req, res) => {
    const org = await deps.prisma.organization.findUniqueOrThrow({ where: { id: principalOf(res).organizationId } });
    res.json({ id: org.id, name: org.name, auto_archive_days: org.autoArchiveDays, retention_days: org.retentionDays });
  });
  r.patch("/organization", requireAdmin("change organization settings"), async (req, res) => {
    const p = principalOf(res);
    const body = parseInput(orgSettingsSchema, req.body);
    const org = await deps.prisma.organization.update({
      where: { id: p.organizationId },
      data: { ...(body.auto_archive_days !== undefined && { autoArchiveDays: body.auto_archive_days }), ...(body.retention_days !== undefined && { retentionDays: body.retention_days }) },
    });
    res.json({ id: org.id, name: org.name, auto_archive_days: org.autoArchiveDays, retention_days: org.retentionDays });
  });
  return r;
}
