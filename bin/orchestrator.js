#!/usr/bin/env node
// CommonJS (see bin/package.json): Node starts no ES module loader for the CLI.
// Written for any Node: the bundle is built for Node 20 and may not even parse on an older one.
var node = process.versions.node;
if (Number(node.split('.')[0]) < 20) {
  process.stderr.write('orchestrator needs Node.js 20 or newer; this is Node.js ' + node + '\n');
  process.exitCode = 2;
} else {
  require('../dist/cli/main.cjs');
}
