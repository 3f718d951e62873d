#!/usr/bin/env bash
# The browser console's npm packages are what web/ says they are, without
# asking the registry:
#   - every dependency of web/package.json names one exact version (no
#     range: `npm install` writes exact versions, web/.npmrc save-exact);
#   - web/package-lock.json locks exactly those for the root, and every
#     package it holds with an integrity hash (from the npm registry when
#     it names a URL);
#   - the packages the node tools of the scripts share with it
#     (scripts/node-tools.sh: openapi-typescript, openapi-fetch, typescript)
#     have the same versions, so the console and tests/openapi are checked
#     with one compiler and one generator;
#   - install scripts stay off (web/.npmrc ignore-scripts) and Playwright
#     is playwright-core, which downloads no browser.
# Registered with ctest (every scripts/check-*.sh is).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
# shellcheck source=scripts/stack.sh
source "$root/scripts/stack.sh"
# shellcheck source=scripts/node-tools.sh
source "$root/scripts/node-tools.sh"
command -v node >/dev/null 2>&1 || skip_test "node is not installed (./souk test installs it)"
grep -qx 'ignore-scripts=true' "$root/web/.npmrc" || check_fail "web/.npmrc does not set ignore-scripts=true"
shared=()
for pin in "${SOUK_NODE_PINS[@]}"; do shared+=("$pin"); done
node - "$root/web/package.json" "$root/web/package-lock.json" "${shared[@]}" <<'JS' || check_fail "the console's packages (above)"
const fs = require("fs");
const [pkgFile, lockFile, ...pins] = process.argv.slice(2);
const pkg = JSON.parse(fs.readFileSync(pkgFile, "utf8"));
const lock = JSON.parse(fs.readFileSync(lockFile, "utf8"));
const wanted = { ...pkg.dependencies, ...pkg.devDependencies };
const problems = [];
for (const [name, version] of Object.entries(wanted)) {
  if (!/^\d+\.\d+\.\d+$/.test(version)) problems.push(`package.json: ${name} is "${version}", not one exact version`);
  const locked = lock.packages?.[`node_modules/${name}`];
  if (!locked) problems.push(`package-lock.json lacks ${name}`);
  else if (locked.version !== version) problems.push(`package-lock.json has ${name} ${locked.version}, package.json ${version}`);
}
const rootEntry = lock.packages?.[""] ?? {};
const lockedRoot = { ...rootEntry.dependencies, ...rootEntry.devDependencies };
if (JSON.stringify(Object.keys(lockedRoot).sort()) !== JSON.stringify(Object.keys(wanted).sort()))
  problems.push("package-lock.json's root names other packages than package.json (run npm install in web/)");
for (const [path, p] of Object.entries(lock.packages ?? {})) {
  if (!path || p.link) continue;
  // (a lock written with omit-lockfile-registry-resolved names no URL:
  // the registry npm is configured with)
  if (!p.integrity || (p.resolved && !/^https:\/\/registry\.npmjs\.org\//.test(p.resolved)))
    problems.push(`package-lock.json: ${path} is not from the npm registry with an integrity hash`);
}
for (const pin of pins) {
  const at = pin.lastIndexOf("@");
  const name = pin.slice(0, at), version = pin.slice(at + 1);
  if (wanted[name] && wanted[name] !== version)
    problems.push(`${name}: web/package.json has ${wanted[name]}, scripts/node-tools.sh ${version}`);
}
if (wanted["playwright"] || wanted["@playwright/test"]) problems.push("use playwright-core, which downloads no browser");
for (const p of problems) console.error(`check-web: ${p}`);
console.log(`check-web: ${Object.keys(wanted).length} packages of web/package.json, ${Object.keys(lock.packages ?? {}).length - 1} locked`);
process.exit(problems.length ? 1 : 0);
JS
check_pass
checks_done check-web
