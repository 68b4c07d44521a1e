// Runs the built Worker (build/index.js + index_bg.wasm) in workerd through Miniflare, with a
// local R2 bucket persisted to a directory, for the end-to-end tests in tests/e2e.rs.
//
//   node harness.mjs '{"build": DIR, "persist": DIR, "port": N, "bindings": {...}, "spool": true}'
//
// With "spool", the Worker gets its OTLP_SPOOL Durable Object binding (SQLite-backed, class
// Spool), persisted under DIR/do; R2 is persisted under DIR/r2 either way, so a second
// harness on the same DIR is the same Worker restarted.
// Prints `#harness ready <port>` once it listens on 127.0.0.1. Then reads commands on stdin:
//   dump DIR   writes every R2 object to DIR/<key>, deletes it, prints `#harness dumped <count>`
//              (one that cannot be read yet stays for the next dump)
//   ping       prints `#harness pong` (what the Worker logged before it is read first)
//   quit       stops workerd and exits (so does the end of stdin)
// The Worker's console output shares stdout; the `#harness` prefix tells the answers apart.
import { Miniflare } from "miniflare";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";

const opts = JSON.parse(process.argv[2]);
const mf = new Miniflare({
  modules: true,
  scriptPath: join(opts.build, "index.js"),
  // Required when the working directory is not the build directory (workerd refuses "..").
  modulesRoot: opts.build,
  modulesRules: [
    { type: "CompiledWasm", include: ["**/*.wasm"] },
    { type: "ESModule", include: ["**/*.js"] },
  ],
  compatibilityDate: opts.compatibilityDate ?? "2026-01-01",
  r2Buckets: { [opts.binding ?? "OTLP_BUCKET"]: "otlp-e2e" },
  r2Persist: join(opts.persist, "r2"),
  ...(opts.spool
    ? {
        durableObjects: { OTLP_SPOOL: { className: "Spool", useSQLite: true } },
        durableObjectsPersist: join(opts.persist, "do"),
      }
    : {}),
  bindings: opts.bindings ?? {},
  host: "127.0.0.1",
  port: opts.port,
  cf: false,
});
const url = await mf.ready;
console.log(`#harness ready ${url.port}`);

async function dump(dir) {
  const bucket = await mf.getR2Bucket(opts.binding ?? "OTLP_BUCKET");
  let count = 0;
  let cursor;
  do {
    const page = await bucket.list({ cursor });
    for (const { key } of page.objects) {
      // An object being written while it is listed (a spool flush) may not read yet: it stays
      // in the bucket for the next dump.
      let bytes;
      try {
        const obj = await bucket.get(key);
        if (obj === null) continue;
        bytes = Buffer.from(await obj.arrayBuffer());
      } catch (e) {
        console.error(`#dump skipped ${key}: ${e}`);
        continue;
      }
      const path = join(dir, key);
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, bytes);
      await bucket.delete(key);
      count += 1;
    }
    cursor = page.truncated ? page.cursor : undefined;
  } while (cursor);
  return count;
}

const lines = createInterface({ input: process.stdin });
for await (const line of lines) {
  const [cmd, ...rest] = line.trim().split(" ");
  if (cmd === "dump") {
    console.log(`#harness dumped ${await dump(rest.join(" "))}`);
  } else if (cmd === "ping") {
    console.log("#harness pong");
  } else if (cmd === "quit") {
    break;
  }
}
await mf.dispose();
process.exit(0);
