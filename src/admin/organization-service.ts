// The caller's organization and settings, and "who am I".
import type { PrismaClient, Organization } from "../generated/prisma/client.ts";
import type { Principal } from "../auth/authenticate.ts";
import type { OrgSettingsInput } from "../../client-kit/admin-inputs.ts";

const organizationView = (org: Organization) => ({ id: org.id, name: org.name, auto_archive_days: org.autoArchiveDays, retention_days: org.retentionDays });

export class OrganizationService {
  constructor(private readonly prisma: PrismaClient) {}

  async get(p: Principal) {
    return organizationView(await this.prisma.organization.findUniqueOrThrow({ where: { id: p.organizationId } }));
  }

  async update(p: Principal, input: OrgSettingsInput) {
    const org = await this.prisma.organization.update({
      where: { id: p.organizationId },
      data: {
        ...(input.auto_archive_days !== undefined && { autoArchiveDays: input.auto_archive_days }),
        ...(input.retention_days !== undefined && { retentionDays: input.retention_days }),
      },
    });
    return organizationView(org);
  }

  async me(p: Principal) {
    const [user, organization] = await Promise.all([
      this.prisma.user.findUniqueOrThrow({ where: { id: p.userId } }),
      this.prisma.organization.findUniqueOrThrow({ where: { id: p.organizationId } }),
    ]);
    return {
      user: { id: user.id, email: user.email, name: user.name },
      organization: { id: organization.id, name: organization.name },
      role: p.role,
      api_key_id: p.apiKeyId,
    };
  }
}
