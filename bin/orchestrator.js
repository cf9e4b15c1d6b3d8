#!/usr/bin/env node
// CommonJS (see bin/package.json): Node starts no ES module loader for the CLI.
require('../dist/cli/main.cjs');
