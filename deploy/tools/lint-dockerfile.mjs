// Lints Dockerfiles with two npm linters (no Docker engine needed):
//  * dockerfile-utils validate(): the checker behind the Dockerfile language
//    server (instruction syntax, flags, JSON forms, stage names, …), every rule
//    at its default severity; any error or warning fails;
//  * dockerfilelint: best-practice rules. It predates HEALTHCHECK
//    --start-period (Docker 17.05), so exactly that finding is ignored and reported.
// Plus this project's policy for the runtime stage (non-root USER, HEALTHCHECK
// on /health/ready, exec-form ENTRYPOINT, STOPSIGNAL, EXPOSE, no :latest).
// usage: node lint-dockerfile.mjs Dockerfile...   (cwd: deploy/.tools)
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { execFileSync } from "node:child_process";
import { createRequire } from "node:module";

const require = createRequire(join(process.cwd(), "package.json"));
const { validate } = require("dockerfile-utils");
let failures = 0;
const fail = (msg) => { console.log(`FAIL ${msg}`); failures++; };

for (const file of process.argv.slice(2)) {
  const text = readFileSync(file, "utf8");
  // 1. dockerfile-utils
  const diags = validate(text);
  for (const d of diags) fail(`${file}:${d.range.start.line + 1}: dockerfile-utils: ${d.message}`);
  if (!diags.length) console.log(`ok   ${file}: dockerfile-utils validate: no diagnostics`);

  // 2. dockerfilelint (exit status = number of issues; JSON on stdout)
  let out;
  try {
    out = execFileSync(process.execPath, [require.resolve("dockerfilelint/bin/dockerfilelint"), "-o", "json", file],
      { encoding: "utf8" });
  } catch (e) {
    out = e.stdout;
  }
  const report = JSON.parse(out);
  let ignored = 0, issues = 0;
  for (const f of report.files ?? []) {
    for (const i of f.issues ?? []) {
      if (/^HEALTHCHECK .*--start-period/.test(i.content ?? "") && i.title === "Invalid Argument Format") {
        ignored++;
        continue;
      }
      issues++;
      fail(`${file}:${i.line}: dockerfilelint: ${i.title}: ${i.description}`);
    }
  }
  if (!issues) console.log(`ok   ${file}: dockerfilelint: no issues${ignored ? ` (ignored ${ignored}: HEALTHCHECK --start-period unknown to dockerfilelint 1.8.0)` : ""}`);

  // 3. policy for the last stage
  const stages = text.split(/^FROM /m);
  const last = stages[stages.length - 1];
  const policy = [
    [/^FROM\s+\S+:(?!latest)\S+/m.test("FROM " + last), "the final stage's base image has a fixed tag"],
    [/^USER\s+(?!0(:|\s|$)|root)\S+/m.test(last), "the final stage runs as a non-root USER"],
    [/^HEALTHCHECK\s.*\/health\/ready/ms.test(last), "HEALTHCHECK probes /health/ready"],
    [/^ENTRYPOINT\s+\[/m.test(last), "ENTRYPOINT is in exec form (SIGTERM reaches the service)"],
    [/^STOPSIGNAL\s+SIGTERM/m.test(last), "STOPSIGNAL SIGTERM"],
    [/^EXPOSE\s+3000/m.test(last), "EXPOSE 3000"],
  ];
  for (const [ok, what] of policy) ok ? console.log(`ok   ${file}: ${what}`) : fail(`${file}: ${what}`);
}
console.log(failures ? `${failures} failure(s)` : "Dockerfile lint clean");
process.exit(failures ? 1 : 0);
