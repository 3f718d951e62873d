// Runs the compiled browser tests one file after the other (one browser at
// a time on the shared stack), each with node's test runner; exits 1 when
// any failed. (node 18, Debian 12's, has no --test-concurrency.)
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";

const dir = new URL("../.out/e2e/e2e/", import.meta.url).pathname;
const only = process.argv.slice(2);
const files = readdirSync(dir)
  .filter((f) => f.endsWith(".test.js") && (only.length === 0 || only.some((o) => f.includes(o))))
  .sort();
let failed = 0;
for (const f of files) {
  const r = spawnSync(process.execPath, ["--test", join(dir, f)], { stdio: "inherit" });
  if (r.status !== 0) failed++;
}
console.log(`browser tests: ${files.length - failed} of ${files.length} files passed`);
process.exit(failed || files.length === 0 ? 1 : 0);
