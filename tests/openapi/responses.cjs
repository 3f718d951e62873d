// Checks every answer the e2e tests and the Postman run received from a
// gateway against the OpenAPI document, with ajv (JSON Schema 2020-12):
//   - the status is one the operation declares (no catch-all "default");
//   - the content type is the declared one and the body matches its schema
//     (an answer without declared content has no body);
//   - every header the answer declares required is there and matches its
//     schema.
// A request that names no operation is checked too: an unknown path answers
// 404, a method its path does not take 405 with Allow listing the methods
// the document has for it, both with the Error schema. A request for a file
// of the browser console (a pattern of the document's x-souk-console) is no
// API operation: it answers the file (200, or 304 to a revalidation) or the
// 404 of the error contract (another method: 405, Allow: GET).
//   node responses.cjs DOC RECORD_DIR
// RECORD_DIR holds the harness's <pid>.jsonl lines (method, path, status,
// headers, body) and newman's JSON report (postman.json). Prints every
// violation and exits 1 on any.
"use strict";
const fs = require("fs");
const path = require("path");
const Ajv2020 = require("ajv/dist/2020").default;
const addFormats = require("ajv-formats");

const [docFile, recordDir] = process.argv.slice(2);
const doc = JSON.parse(fs.readFileSync(docFile, "utf8"));
const ajv = new Ajv2020({ strict: false, allErrors: false });
addFormats(ajv);
ajv.addSchema(doc, "openapi");

const methods = ["get", "put", "post", "delete", "patch", "head", "options"];
// x-souk-console's patterns are the route table's: ":name" one segment,
// a last "*" the rest of the path
const consolePaths = (doc["x-souk-console"] || []).map(
  (pattern) => new RegExp("^" + pattern.replace(/:[^/]+/g, "[^/]+").replace(/\*$/, ".*") + "$"),
);
const templates = Object.keys(doc.paths).map((template) => ({
  template,
  regex: new RegExp("^" + template.replace(/\{[^}]+\}/g, "[^/]+") + "$"),
}));

function resolve(node) {
  while (node && node.$ref) {
    const parts = node.$ref.replace(/^#\//, "").split("/");
    node = parts.reduce((o, k) => o[k.replace(/~1/g, "/").replace(/~0/g, "~")], doc);
  }
  return node;
}

const validators = new Map();
function validator(schema) {
  const key = JSON.stringify(schema);
  if (!validators.has(key)) {
    // a reference into the document resolves against it
    const s = schema.$ref ? { $ref: "openapi" + schema.$ref } : schema;
    validators.set(key, ajv.compile(s));
  }
  return validators.get(key);
}

function records() {
  const out = [];
  for (const name of fs.readdirSync(recordDir).sort()) {
    const file = path.join(recordDir, name);
    if (name.endsWith(".jsonl")) {
      for (const line of fs.readFileSync(file, "utf8").split("\n")) {
        if (line.trim()) out.push({ source: name, ...JSON.parse(line) });
      }
    } else if (name === "postman.json") {
      const report = JSON.parse(fs.readFileSync(file, "utf8"));
      for (const e of report.run.executions) {
        if (!e.response) continue; // the request failed: newman reports it
        const url = e.request.url;
        const query = (url.query || []).filter((q) => !q.disabled).map((q) => `${q.key}=${q.value}`);
        const headers = {};
        for (const h of e.response.header || []) headers[h.key.toLowerCase()] = h.value;
        out.push({
          source: `postman: ${e.item.name}`,
          method: e.request.method,
          path: "/" + (url.path || []).join("/") + (query.length ? "?" + query.join("&") : ""),
          status: e.response.code,
          headers,
          body: Buffer.from(e.response.stream ? e.response.stream.data : []).toString("utf8"),
        });
      }
    }
  }
  return out;
}

const violations = [];
const seen = new Set();
function violation(r, what) {
  violations.push(`${r.method} ${r.path} -> ${r.status} (${r.source}): ${what}`);
}

function checkBody(r, response) {
  const content = response.content;
  if (!content) {
    if (r.body.length) violation(r, "a body where the document declares none");
    return;
  }
  const type = (r.headers["content-type"] || "").toLowerCase();
  const media = Object.keys(content).find(
    (m) => m.split(";")[0].trim().toLowerCase() === type.split(";")[0].trim(),
  );
  if (!media) {
    violation(r, `content type "${type}", not ${Object.keys(content).join(" or ")}`);
    return;
  }
  let value = r.body;
  if (media.startsWith("application/json")) {
    try {
      value = JSON.parse(r.body);
    } catch (err) {
      violation(r, `the body is not JSON: ${err.message}`);
      return;
    }
  }
  const validate = validator(content[media].schema);
  if (!validate(value)) {
    const e = validate.errors[0];
    violation(r, `body ${e.instancePath || "/"} ${e.message} (${JSON.stringify(e.params)})`);
  }
}

function checkHeaders(r, response) {
  for (const [name, declared] of Object.entries(response.headers || {})) {
    const header = resolve(declared);
    const value = r.headers[name.toLowerCase()];
    if (value === undefined) {
      if (header.required) violation(r, `no ${name} header`);
      continue;
    }
    if (!header.schema) continue;
    const typed = header.schema.type === "integer" && /^-?\d+$/.test(value) ? Number(value) : value;
    if (!validator(header.schema)(typed)) violation(r, `${name}: ${value} breaks its schema`);
  }
}

const checked = records();
let consoleAnswers = 0;
for (const r of checked) {
  const pathOnly = r.path.split("?")[0];
  if (consolePaths.some((re) => re.test(pathOnly))) {
    consoleAnswers++;
    if (r.method !== "GET") {
      if (r.status !== 405 || (r.headers["allow"] || "") !== "GET")
        violation(r, "a console path answers another method 405 with Allow: GET");
      checkBody(r, { content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } } });
    } else if (r.status === 404) {
      checkBody(r, { content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } } });
    } else if (r.status !== 200 && r.status !== 304) {
      violation(r, "a console file answers 200, 304 or 404");
    }
    continue;
  }
  const match = templates.find((t) => t.regex.test(pathOnly));
  const op = match && doc.paths[match.template][r.method.toLowerCase()];
  if (!op) {
    // no operation: the dispatcher's 404 or 405, in the error contract
    const want = match ? 405 : 404;
    if (r.status !== want) violation(r, `no operation for this request, yet not ${want}`);
    if (want === 405) {
      const allowed = methods.filter((m) => doc.paths[match.template][m]).map((m) => m.toUpperCase());
      const allow = (r.headers["allow"] || "").split(",").map((m) => m.trim()).filter(Boolean);
      if (allow.sort().join(",") !== allowed.sort().join(","))
        violation(r, `Allow is "${r.headers["allow"]}", the document has ${allowed.join(", ")}`);
    }
    checkBody(r, { content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } } });
    continue;
  }
  const response = resolve(op.responses[String(r.status)]);
  seen.add(`${op.operationId} ${r.status}`);
  if (!response) {
    violation(r, `${op.operationId} declares no ${r.status} (it declares ${Object.keys(op.responses).join(", ")})`);
    continue;
  }
  checkBody(r, response);
  checkHeaders(r, response);
}

for (const v of violations) console.error(`openapi: ${v}`);
const operations = new Set([...seen].map((s) => s.split(" ")[0]));
const all = Object.values(doc.paths).flatMap((item) => methods.filter((m) => item[m]).map((m) => item[m].operationId));
const unseen = all.filter((id) => !operations.has(id));
console.log(
  `openapi: ${checked.length} answers checked against the document (${consoleAnswers} of them ` +
    `console files), ${operations.size} of ${all.length} operations and ${seen.size} of their ` +
    `statuses seen, ${violations.length} violations`,
);
if (unseen.length) console.log(`openapi: operations no test called: ${unseen.join(", ")}`);
// The e2e tests selected may have used no recording client (souk-load and
// souk chaos have their own); test_routes checks that the harness records.
if (checked.length === 0) console.log("openapi: no answers were recorded by the tests that ran");
process.exit(violations.length === 0 ? 0 : 1);
