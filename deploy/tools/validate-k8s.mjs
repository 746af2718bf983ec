// Validates Kubernetes manifests offline, two ways:
//  1. the JSON schemas of the Kubernetes OpenAPI (npm kubernetes-models: types,
//     required fields, formats, enums) — like kubeconform without -strict;
//  2. strict field names: each object is type-checked by the TypeScript
//     compiler against npm kubernetes-types, whose excess-property check
//     rejects unknown or misspelt fields (kubeconform -strict).
// usage: node validate-k8s.mjs FILE.yaml...   (run from deploy/.tools, see deploy/check-artefacts.sh)
import { readFileSync, writeFileSync, mkdtempSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, basename } from "node:path";
import { execFileSync } from "node:child_process";
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";

const require = createRequire(join(process.cwd(), "package.json"));
const { parseAllDocuments } = require("yaml");
const files = process.argv.slice(2);
let failures = 0;
const ts = [];

// apiVersion → [kubernetes-models module, kubernetes-types module]
function modules(apiVersion) {
  const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : ["", apiVersion];
  const typesGroup = group === "" ? "core" : group.replace(/\.k8s\.io$/, "");
  const dir = join(process.cwd(), "node_modules", "kubernetes-models", group, version);
  const entry = existsSync(join(dir, "index.mjs")) ? join(dir, "index.mjs") : join(dir, "index.js");
  return [entry, `kubernetes-types/${typesGroup}/${version}`];
}

for (const file of files) {
  const docs = parseAllDocuments(readFileSync(file, "utf8"));
  for (const [i, doc] of docs.entries()) {
    const where = `${basename(file)}#${i}`;
    if (doc.errors.length) {
      console.log(`FAIL ${where}: YAML: ${doc.errors.map((e) => e.message).join("; ")}`);
      failures++;
      continue;
    }
    const obj = doc.toJS();
    if (!obj) continue;
    if (obj.kind === "Kustomization") {
      console.log(`skip ${where}: Kustomization (not an API object)`);
      continue;
    }
    const [modelsModule, typesModule] = modules(obj.apiVersion);
    let Model;
    try {
      Model = (await import(pathToFileURL(modelsModule).href))[obj.kind];
    } catch (e) {
      Model = undefined;
    }
    if (!Model) {
      console.log(`FAIL ${where}: unknown apiVersion/kind ${obj.apiVersion} ${obj.kind}`);
      failures++;
      continue;
    }
    try {
      new Model(obj).validate();
      console.log(`ok   ${where}: ${obj.apiVersion} ${obj.kind} ${obj.metadata?.name} (schema)`);
    } catch (e) {
      console.log(`FAIL ${where}: ${obj.apiVersion} ${obj.kind}: ${e.message}`);
      failures++;
    }
    ts.push({ where, typesModule, kind: obj.kind, obj });
  }
}

// Strict field names: one TypeScript file with every object as a typed literal.
const dir = mkdtempSync(join(tmpdir(), "validate-k8s-"));
const lines = [];
ts.forEach((t, i) => {
  lines.push(`import type { ${t.kind} as T${i} } from ${JSON.stringify(t.typesModule)};`);
});
ts.forEach((t, i) => {
  lines.push(`// ${t.where}`);
  lines.push(`export const o${i}: T${i} = ${JSON.stringify(t.obj, null, 1)};`);
});
const source = join(dir, "manifests.ts");
writeFileSync(source, lines.join("\n") + "\n");
const tsc = require.resolve("typescript/bin/tsc");
try {
  execFileSync(process.execPath, [tsc, "--noEmit", "--strict", "--skipLibCheck",
    "--baseUrl", join(process.cwd(), "node_modules"),
    "--moduleResolution", "node", "--module", "esnext", "--target", "es2020", source],
    { stdio: "pipe", cwd: process.cwd() });
  console.log(`ok   ${ts.length} objects: no unknown or mistyped fields (kubernetes-types, tsc --strict)`);
} catch (e) {
  const out = (e.stdout?.toString() || "") + (e.stderr?.toString() || "");
  // Map "manifests.ts(LINE,COL)" back to the object it is in.
  const src = lines;
  for (const l of out.split("\n").filter(Boolean)) {
    const m = l.match(/manifests\.ts\((\d+),/);
    let where = "";
    if (m) for (let k = Number(m[1]) - 1; k >= 0; k--) if (src.join("\n").split("\n")[k]?.startsWith("// ")) { where = src.join("\n").split("\n")[k].slice(3); break; }
    console.log(`FAIL ${where}: ${l.replace(/^.*manifests\.ts/, "manifests.ts")}`);
  }
  failures++;
}
console.log(failures ? `${failures} failure(s)` : "all manifests valid");
process.exit(failures ? 1 : 0);
