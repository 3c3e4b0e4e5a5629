// Prometheus metrics for operators: queue depth, turn latency and outcomes, job and
// webhook failures, HTTP traffic and socket counts. One registry per server (tests run
// several servers in one process). Queue depth is read from the queue driver at scrape
// time: with BullMQ it is deployment-wide, so aggregate it with max, not sum.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import { queueNames, type QueueDriver } from "../jobs/queue-driver.ts";

/** How a turn ended, as the turn processor saw it. */
export type TurnEndOutcome = "waiting" | "requires_action" | "error" | "interrupted" | "handed_back" | "lost";

export interface Metrics {
  readonly registry: Registry;
  turnEnded(outcome: TurnEndOutcome, seconds: number, errorKind?: string): void;
  turnFirstToken(seconds: number): void;
  webhookDelivery(outcome: "delivered" | "skipped" | "failed"): void;
  /** A failed run of an outbox job (retried by the outbox itself, not the queue); final when no retry follows. */
  jobFailed(queue: string, final: boolean): void;
  /** A live stream delta the bus refused (Redis away, stream replaced); the turn goes on. */
  streamPublishFailed(): void;
  /** A Redis connection error, counted instead of logged while an outage lasts. */
  redisError(connection: string): void;
  httpRequest(method: string, route: string, status: number, seconds: number): void;
  /** Socket counts per namespace, read at scrape time (the Socket.IO server is built after the metrics). */
  setSocketCounter(count: () => Record<string, number>): void;
}

// LLM turns run from about a second to minutes; first tokens from tens of ms to tens of seconds.
const TURN_BUCKETS = [0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600];
const FIRST_TOKEN_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30];
const HTTP_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

export function createMetrics(queues: QueueDriver): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "switchboard_" });
  const registers = [registry];

  new Gauge({
    name: "switchboard_queue_jobs",
    help: "Jobs per queue and state (waiting, active, delayed incl. retries on backoff)",
    labelNames: ["queue", "state"],
    registers,
    async collect() {
      const names = Object.values(queueNames);
      // A queue that cannot be counted (its driver closed, Redis away) drops out of
      // this scrape instead of failing it: the rest is what an operator needs then.
      const counts = await Promise.all(names.map((q) => queues.counts(q).catch(() => undefined)));
      this.reset();
      names.forEach((queue, i) => {
        const c = counts[i];
        if (c) for (const state of ["waiting", "active", "delayed"] as const) this.set({ queue, state }, c[state]);
      });
    },
  });
  const jobsCompleted = new Counter({ name: "switchboard_jobs_completed_total", help: "Jobs this process completed", labelNames: ["queue"], registers });
  const jobsFailed = new Counter({
    name: "switchboard_jobs_failed_total",
    help: "Failed job attempts in this process; final=true when no retry follows",
    labelNames: ["queue", "final"],
    registers,
  });
  const jobDuration = new Histogram({
    name: "switchboard_job_duration_seconds",
    help: "Run time of completed jobs",
    labelNames: ["queue"],
    buckets: TURN_BUCKETS,
    registers,
  });
  queues.on("completed", (e) => {
    jobsCompleted.inc({ queue: e.queue });
    jobDuration.observe({ queue: e.queue }, e.durationMs / 1000);
  });
  queues.on("failed", (e) => jobsFailed.inc({ queue: e.queue, final: String(!e.willRetry) }));

  const streamFailures = new Counter({
    name: "switchboard_stream_publish_failures_total",
    help: "Live stream deltas not delivered (the turn went on and persisted)",
    registers,
  });
  const redisErrors = new Counter({
    name: "switchboard_redis_errors_total",
    help: "Redis connection errors, by connection (an outage is logged once, counted here)",
    labelNames: ["connection"],
    registers,
  });
  const turns = new Counter({ name: "switchboard_turns_total", help: "Turns ended in this process, by outcome", labelNames: ["outcome"], registers });
  const turnErrors = new Counter({ name: "switchboard_turn_errors_total", help: "Turns that ended in error, by error kind", labelNames: ["kind"], registers });
  const turnDuration = new Histogram({
    name: "switchboard_turn_duration_seconds",
    help: "Acquisition to end of a turn",
    labelNames: ["outcome"],
    buckets: TURN_BUCKETS,
    registers,
  });
  const firstToken = new Histogram({
    name: "switchboard_turn_first_token_seconds",
    help: "Acquisition to the first streamed text or reasoning delta",
    buckets: FIRST_TOKEN_BUCKETS,
    registers,
  });
  const webhooks = new Counter({
    name: "switchboard_webhook_deliveries_total",
    help: "Webhook delivery attempts by outcome",
    labelNames: ["outcome"],
    registers,
  });
  const httpRequests = new Counter({
    name: "switchboard_http_requests_total",
    help: "HTTP requests by route pattern and status",
    labelNames: ["method", "route", "status"],
    registers,
  });
  const httpDuration = new Histogram({
    name: "switchboard_http_request_duration_seconds",
    help: "HTTP request duration by route pattern",
    labelNames: ["method", "route"],
    buckets: HTTP_BUCKETS,
    registers,
  });

  let socketCounts: () => Record<string, number> = () => ({});
  new Gauge({
    name: "switchboard_socket_connections",
    help: "Connected sockets in this process, per namespace",
    labelNames: ["namespace"],
    registers,
    collect() {
      for (const [namespace, n] of Object.entries(socketCounts())) this.set({ namespace }, n);
    },
  });

  return {
    registry,
    turnEnded(outcome, seconds, errorKind) {
      turns.inc({ outcome });
      turnDuration.observe({ outcome }, seconds);
      if (outcome === "error") turnErrors.inc({ kind: errorKind ?? "unknown" });
    },
    turnFirstToken: (seconds) => firstToken.observe(seconds),
    webhookDelivery: (outcome) => webhooks.inc({ outcome }),
    jobFailed: (queue, final) => jobsFailed.inc({ queue, final: String(final) }),
    streamPublishFailed: () => streamFailures.inc(),
    redisError: (connection) => redisErrors.inc({ connection }),
    httpRequest(method, route, status, seconds) {
      httpRequests.inc({ method, route, status: String(status) });
      httpDuration.observe({ method, route }, seconds);
    },
    setSocketCounter(count) {
      socketCounts = count;
    },
  };
}
