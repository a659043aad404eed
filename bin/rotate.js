#!/usr/bin/env node
'use strict';
// The package binary runs the compiled CLI (built by `npm run build`, which `npm ci` runs through
// `prepare`): no TypeScript loader at start-up.
require('../dist/scripts/cli/main.js').main(process.argv).then(
  (code) => { process.exitCode = code; },
  (err) => { console.error(err); process.exitCode = 2; },
);
