#!/usr/bin/env node
// A solc command-line front for solc-js (the official compiler built to WebAssembly).
// No native solc can be installed on these machines; py-solc-x and ape-solidity only need an
// executable that answers `--version` and compiles `--standard-json` from stdin, which this does.
'use strict';
const fs = require('fs');
const path = require('path');
const solc = require(path.join(__dirname, '..', 'node_modules', 'solc'));

// Large JSON on a pipe is truncated if we exit before process.stdout drains; writeSync does not.
function out(text) {
  const buf = Buffer.from(text);
  let off = 0;
  while (off < buf.length) {
    try {
      off += fs.writeSync(1, buf, off, buf.length - off);
    } catch (err) {
      if (err.code !== 'EAGAIN') throw err;
    }
  }
}

const args = process.argv.slice(2);
if (args.includes('--version')) {
  out(`solc, the solidity compiler commandline interface\nVersion: ${solc.version()}\n`);
  process.exit(0);
}
if (!args.includes('--standard-json')) {
  process.stderr.write('solc-bridge: only --version and --standard-json are supported\n');
  process.exit(2);
}

const roots = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--base-path' || args[i] === '--include-path') roots.push(args[++i]);
  else if (args[i].startsWith('--base-path=') || args[i].startsWith('--include-path=')) roots.push(args[i].split('=')[1]);
}
roots.push(process.cwd());

function findImports(importPath) {
  const candidates = path.isAbsolute(importPath) ? [importPath] : roots.map((r) => path.resolve(r, importPath));
  for (const file of candidates) {
    if (fs.existsSync(file) && fs.statSync(file).isFile()) return { contents: fs.readFileSync(file, 'utf8') };
  }
  return { error: `File not found: ${importPath} (searched ${roots.join(', ')})` };
}

const input = fs.readFileSync(0, 'utf8');
out(solc.compile(input, { import: findImports }));
