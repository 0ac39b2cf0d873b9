#!/usr/bin/env bash
# Editor packages: the TextMate grammar tests, and that every config file parses.
# Needs Node 20.18+ (npm) and Python 3.11+ (tomllib); no Rust toolchain.
set -euo pipefail
cd "$(dirname "$0")"

echo "== editors: config files parse"
node -e '
  for (const f of process.argv.slice(1)) {
    JSON.parse(require("fs").readFileSync(f, "utf8"));
    console.log("ok " + f);
  }' vscode/package.json vscode/language-configuration.json vscode/syntaxes/rulec.tmLanguage.json
python3 -c '
import sys, tomllib
for f in sys.argv[1:]:
    with open(f, "rb") as fh:
        tomllib.load(fh)
    print("ok " + f)' helix/languages.toml

echo "== editors: VS Code grammar tests"
cd vscode
npm ci --no-audit --no-fund
# A malformed assertion line can send vscode-tmgrammar-test into an endless loop;
# fail instead of hanging CI.
timeout 300 npm run test:grammar
