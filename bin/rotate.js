#!/usr/bin/env node
'use strict';
// The SDK's multi-line Node 20 deprecation notice would precede every command's output; the
// README recommends a current LTS instead. An explicit setting by the operator wins.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
// The package binary runs the compiled CLI (built by `npm run build`, which `npm ci` runs through
// `prepare`): no TypeScript loader at start-up.
require('../dist/scripts/cli/main.js').main(process.argv).then(
  (code) => { process.exitCode = code; },
  (err) => { console.error(err); process.exitCode = 2; },
);
