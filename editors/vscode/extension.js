// VS Code client for rulec-lsp. Plain JavaScript so the extension needs no build step:
// `npm ci && npx vsce package` is all it takes.
'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');
const vscode = require('vscode');
const { LanguageClient } = require('vscode-languageclient/node');

const SERVER = 'rulec-lsp';
const INSTALL =
  'cargo install --path lsp   # from a rulec checkout (or: cargo install rulec-lsp)';

/** @type {LanguageClient | undefined} */
let client;

function isExecutable(file) {
  try {
    fs.accessSync(file, fs.constants.X_OK); // on Windows: exists
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

// `rulec.server.path` if set, else `rulec-lsp` on PATH, else ~/.cargo/bin: VS Code
// started from a desktop launcher often lacks the shell's PATH, and `cargo install`
// puts binaries in ~/.cargo/bin.
function findServer() {
  const configured = vscode.workspace.getConfiguration('rulec').get('server.path', '').trim();
  if (configured) {
    let file = configured.replace(/^~(?=$|[\\/])/, os.homedir());
    const folder = vscode.workspace.workspaceFolders && vscode.workspace.workspaceFolders[0];
    if (!path.isAbsolute(file) && folder) file = path.join(folder.uri.fsPath, file);
    return { file: isExecutable(file) ? file : undefined, configured };
  }
  const exts = process.platform === 'win32' ? ['.exe', ''] : [''];
  const dirs = (process.env.PATH || '').split(path.delimiter).filter(Boolean);
  dirs.push(path.join(os.homedir(), '.cargo', 'bin'));
  for (const dir of dirs) {
    for (const ext of exts) {
      const file = path.join(dir, SERVER + ext);
      if (isExecutable(file)) return { file };
    }
  }
  return { file: undefined };
}

async function reportMissing(configured) {
  const message = configured
    ? `rulec: the language server was not found at \`${configured}\` (setting \`rulec.server.path\`). ` +
      'Fix the path, or clear the setting to use rulec-lsp from PATH.'
    : `rulec: the language server \`${SERVER}\` was not found on PATH or in ~/.cargo/bin. ` +
      'Install it with `cargo install --path lsp` from a rulec checkout (or `cargo install rulec-lsp`), ' +
      'or set `rulec.server.path`. Syntax highlighting works without it.';
  const choice = await vscode.window.showErrorMessage(message, 'Copy Install Command', 'Open Settings');
  if (choice === 'Copy Install Command') {
    await vscode.env.clipboard.writeText(INSTALL);
  } else if (choice === 'Open Settings') {
    await vscode.commands.executeCommand('workbench.action.openSettings', 'rulec.server.path');
  }
}

async function start() {
  const { file, configured } = findServer();
  if (!file) {
    reportMissing(configured);
    return;
  }
  // No `transport`: stdio without the `--stdio` argument the client would otherwise add.
  const serverOptions = { command: file, args: [] };
  const clientOptions = {
    documentSelector: [
      { scheme: 'file', language: 'rulec' },
      { scheme: 'untitled', language: 'rulec' },
    ],
    // Declarations in any .rules file and rulec.toml change what every file means.
    synchronize: {
      fileEvents: vscode.workspace.createFileSystemWatcher('**/{*.rules,rulec.toml}'),
    },
  };
  // The id 'rulec' makes the client honour the `rulec.trace.server` setting.
  client = new LanguageClient('rulec', 'rulec', serverOptions, clientOptions);
  try {
    await client.start();
  } catch (err) {
    vscode.window.showErrorMessage(`rulec: could not start ${file}: ${err && err.message ? err.message : err}`);
  }
}

async function stop() {
  const old = client;
  client = undefined;
  if (old) await old.stop().catch(() => undefined);
}

async function restart() {
  await stop();
  await start();
}

async function activate(context) {
  context.subscriptions.push(
    vscode.commands.registerCommand('rulec.restartServer', restart),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('rulec.server.path')) restart();
    }),
  );
  await start();
}

function deactivate() {
  return stop();
}

module.exports = { activate, deactivate };
