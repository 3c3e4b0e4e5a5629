// The one-way dependencies of design.md "Layout" and docs/architecture.md "Layers and
// dependencies", checked by `npm run lint:deps` and test/unit/architecture.test.ts:
// the edges (src/http, src/realtime, jobs/processors and the job runners) call the services;
// services call db, domain and llm; domain imports nothing of ours but client-kit;
// client-kit imports nothing from src or jobs. Nothing imports in a cycle.
//
// The swc parser does not mark `import type`, so these rules are about files, not about
// whether an import is a type or a value.

/**
 * Below the edges: the services and the layers under them, and src/*.ts other than the
 * composition root (config, log, metrics, redis, settles-within, bootstrap).
 */
const belowEdges = {
  path: ["^src/(commands|chats|turns|notifications|admin|auth|events|stream|db|llm|domain)/", "^src/[^/]+[.]ts$"],
  pathNot: "^src/(server|main)[.]ts$",
};
/** The jobs/ files a service may use: the queue names, job types and specs (no driver, no worker). */
const queueSpecs = "^jobs/(queue-driver|queue-specs)[.]ts$";

/** @type {import("dependency-cruiser").IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: "no-circular",
      severity: "error",
      comment: "No import cycles anywhere.",
      from: {},
      to: { circular: true },
    },
    {
      name: "domain-is-pure",
      severity: "error",
      comment: "src/domain is pure logic: it imports nothing of ours outside src/domain except client-kit (no db, no Prisma client, no services).",
      from: { path: "^src/domain/" },
      to: { path: "^(src|jobs)/", pathNot: "^src/domain/" },
    },
    {
      name: "domain-does-no-io",
      severity: "error",
      comment: "src/domain does no I/O: of Node's modules it uses only crypto (hashes and HMACs are pure).",
      from: { path: "^src/domain/" },
      to: { dependencyTypes: ["core"], pathNot: "^crypto$" },
    },
    {
      name: "client-kit-is-standalone",
      severity: "error",
      comment: "client-kit becomes an installable package: it imports nothing from src or jobs.",
      from: { path: "^client-kit/" },
      to: { path: "^(src|jobs)/" },
    },
    {
      name: "services-not-to-edges",
      severity: "error",
      comment:
        "Arrows go http/realtime/jobs -> services, never back: services (and src/*.ts below the composition root) never import src/http, src/realtime or jobs/processors.",
      from: belowEdges,
      to: { path: "^(src/http/|src/realtime/|jobs/processors/)" },
    },
    {
      name: "services-not-to-job-runners",
      severity: "error",
      comment:
        "Of jobs/, services may import only the queue specs and the driver interface (jobs/queue-specs.ts, jobs/queue-driver.ts: src/metrics.ts uses its queue names), never a driver, the workers or the outbox processor.",
      from: belowEdges,
      to: { path: "^jobs/", pathNot: [queueSpecs, "^jobs/processors/"] },
    },
    {
      name: "queue-specs-are-leaves",
      severity: "error",
      comment: "jobs/queue-specs.ts and jobs/queue-driver.ts import nothing of ours but each other, so a service that uses them pulls in no edge.",
      from: { path: queueSpecs },
      to: { path: "^(src|jobs|client-kit)/", pathNot: queueSpecs },
    },
    {
      name: "composition-root-on-top",
      severity: "error",
      comment: "src/server.ts is imported only by src/main.ts, and src/main.ts by nothing.",
      from: { pathNot: "^src/main[.]ts$" },
      to: { path: "^src/(server|main)[.]ts$" },
    },
    {
      name: "llm-not-to-services",
      severity: "error",
      comment: "Provider adapters sit under the services: src/llm imports no chats, turns or notifications.",
      from: { path: "^src/llm/" },
      to: { path: "^src/(chats|turns|notifications)/" },
    },
    {
      name: "not-to-unresolvable",
      severity: "error",
      comment: "Every import resolves to a file or an installed package.",
      from: {},
      to: { couldNotResolve: true },
    },
    {
      name: "no-non-package-json",
      severity: "error",
      comment: "Packages the code imports are listed in package.json, not reached through another package's dependencies.",
      from: {},
      to: { dependencyTypes: ["npm-no-pkg", "npm-unknown"] },
    },
    {
      name: "not-to-dev-dep",
      severity: "error",
      comment: "Server and client-kit code imports no devDependency (they are not installed in production).",
      from: { path: "^(src|jobs|client-kit)/" },
      to: { dependencyTypes: ["npm-dev"] },
    },
  ],
  options: {
    // The regular TypeScript parser needs typescript < 7 (this repo has the native compiler);
    // swc parses TypeScript here.
    parser: "swc",
    // Prisma's generated client is not ours to check; imports of it still show (so domain-is-pure sees them).
    doNotFollow: { path: ["node_modules", "^src/generated/"] },
    moduleSystems: ["es6"],
  },
};
