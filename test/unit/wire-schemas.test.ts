// The output schemas of client-kit/schemas.ts: every one converts to JSON Schema (the
// OpenAPI / AsyncAPI documents are generated that way), and their closed vocabularies
// are the server's own (the Prisma enums, the status machine, the LLM layer's unions).
// Whether they describe real responses is test/e2e/wire-shapes.test.ts's question.
import { describe, expect, expectTypeOf, it } from "vitest";
import { z } from "zod";
import * as schemas from "../../client-kit/schemas.ts";
import { connectErrors, type SessionEndReason } from "../../client-kit/protocol.ts";
import { chatStatuses } from "../../src/domain/status-machine.ts";
import * as prismaEnums from "../../src/generated/prisma/enums.ts";
import type { ChatErrorInfo as StoredChatErrorInfo, FinishReason, LlmErrorKind, ProviderKind } from "../../src/llm/types.ts";

const exported = Object.entries(schemas as Record<string, unknown>).filter((e): e is [string, z.ZodType] => e[1] instanceof z.ZodType);

describe("wire schemas", () => {
  it("exports schemas, each named <thing>Schema", () => {
    expect(exported.length).toBeGreaterThan(50);
    expect(exported.map(([name]) => name).filter((n) => !n.endsWith("Schema"))).toEqual([]);
  });

  it.each(exported)("%s converts to JSON Schema (draft 2020-12, output side)", (_name, schema) => {
    const json = z.toJSONSchema(schema, { target: "draft-2020-12", io: "output", unrepresentable: "any" });
    expect(json.$schema).toBe("https://json-schema.org/draft/2020-12/schema");
    // Nothing in them is unrepresentable: the conversion also succeeds when that would throw.
    expect(() => z.toJSONSchema(schema, { target: "draft-2020-12", io: "output" })).not.toThrow();
  });

  it("strict views reject extra keys in the JSON Schema too, and the recursive chat refers to itself", () => {
    const chat = z.toJSONSchema(schemas.chatSchema, { target: "draft-2020-12", io: "output" }) as {
      additionalProperties?: unknown;
      properties: Record<string, { items?: { $ref?: string } }>;
    };
    expect(chat.additionalProperties).toBe(false);
    expect(chat.properties["children"]?.items?.$ref).toBe("#");
    const detail = z.toJSONSchema(schemas.chatDetailSchema, { target: "draft-2020-12", io: "output" }) as { required: string[] };
    expect(detail.required).toEqual(expect.arrayContaining(["has_unread", "children"]));
  });

  it("timestamps are what Date.toISOString() writes, and nothing else", () => {
    const at = schemas.notificationViewSchema.shape.created_at;
    expect(at.safeParse(new Date("2026-12-02T06:00:00Z").toISOString()).success).toBe(true);
    for (const other of ["2026-12-02T06:00:00Z", "2026-12-02T06:00:00.000+01:00", "2026-12-02"]) expect(at.safeParse(other).success).toBe(false);
  });
});

describe("closed vocabularies agree with the server", () => {
  const values = (o: Record<string, string>) => Object.values(o).sort();

  it("match the Prisma enums (the database's types) and the status machine", () => {
    expect([...schemas.chatStatusSchema.options].sort()).toEqual([...chatStatuses].sort());
    const pairs: [z.ZodEnum, Record<string, string>][] = [
      [schemas.chatStatusSchema, prismaEnums.ChatStatus],
      [schemas.titleSourceSchema, prismaEnums.TitleSource],
      [schemas.clientTypeSchema, prismaEnums.ClientType],
      [schemas.messageRoleSchema, prismaEnums.MessageRole],
      [schemas.messageVisibilitySchema, prismaEnums.MessageVisibility],
      [schemas.memberRoleSchema, prismaEnums.MemberRole],
      [schemas.providerKindSchema, prismaEnums.ProviderKind],
      [schemas.notificationKindSchema, prismaEnums.NotificationKind],
      [schemas.webhookDeliveryStatusSchema, prismaEnums.WebhookDeliveryStatus],
    ];
    for (const [schema, prismaEnum] of pairs) expect([...schema.options].sort()).toEqual(values(prismaEnum));
    expect([...schemas.connectErrorDataSchema.shape.code.options].sort()).toEqual(values(connectErrors));
  });

  it("match the LLM layer's unions and the protocol's own types (checked by tsc)", () => {
    expectTypeOf<z.output<typeof schemas.chatErrorKindSchema>>().toEqualTypeOf<LlmErrorKind>();
    expectTypeOf<z.output<typeof schemas.chatErrorInfoSchema>>().toEqualTypeOf<StoredChatErrorInfo>();
    expectTypeOf<z.output<typeof schemas.finishReasonSchema>>().toEqualTypeOf<FinishReason>();
    expectTypeOf<z.output<typeof schemas.providerKindSchema>>().toEqualTypeOf<ProviderKind>();
    expectTypeOf<z.output<typeof schemas.sessionRevokedSchema>>().toEqualTypeOf<{ reason: SessionEndReason }>();
  });
});
