// Benchmark dispatcher: `npm run bench -- <name> [options]` runs test/bench/<name>.ts's
// exported `main(args)`. A benchmark resolves to its exit code and
// cleans up after itself; this file only picks it and exits. See docs/benchmarks.md.
type BenchMain = (args: string[]) => Promise<number>;

/** One line per benchmark: the name on the command line -> its module. */
const benches: Record<string, { describe: string; load: () => Promise<{ main: BenchMain }> }> = {
  turns: { describe: "concurrent chats x tokens per reply: turns/s, relay overhead, statements per turn, heartbeats, RSS", load: () => import("./turns.ts") },
  fanout: {
    describe: "K watch sockets x chat:status events/s: delivery latency vs bare Socket.IO, lost events, memory per idle socket",
    load: () => import("./fanout.ts"),
  },
};

function usage(): void {
  const width = Math.max(...Object.keys(benches).map((n) => n.length));
  process.stderr.write(
    "usage: npm run bench -- <name> [options]   (npm run bench -- <name> --help for its options)\n\nbenchmarks:\n" +
      Object.entries(benches)
        .map(([name, b]) => `  ${name.padEnd(width)}  ${b.describe}\n`)
        .join(""),
  );
}

const [name, ...rest] = process.argv.slice(2);
const bench = name !== undefined && Object.hasOwn(benches, name) ? benches[name] : undefined;
if (!bench) {
  if (name !== undefined && name !== "--help" && name !== "-h") process.stderr.write(`unknown benchmark: ${name}\n\n`);
  usage();
  process.exit(1);
}

try {
  const { main } = await bench.load();
  const code = await main(rest);
  // Benchmarks close what they open; exiting here only cuts keep-alive sockets and timers
  // that libraries leave behind, so a finished run never hangs.
  process.exit(code);
} catch (err) {
  process.stderr.write(`bench ${name} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
}
