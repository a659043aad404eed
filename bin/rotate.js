#!/usr/bin/env node
'use strict';
// The SDK's multi-line Node 20 deprecation notice would precede every command's output; the
// README recommends a current LTS instead. An explicit setting by the operator wins.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
// `rotate status | head` closes stdout early: that is the reader's choice, not an error.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error) => {
    if (error && error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
}
// The package binary runs the compiled CLI (built by `npm run build`, which `npm ci` runs through
// `prepare`): no TypeScript loader at start-up.
const { main } = require('../dist/scripts/cli/main.js');
main(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    // main() reports its own errors; reaching here is a bug, mapped like every other error.
    const { describeError, exitCodeFor } = require('../dist/pipeline/errors.js');
    process.stderr.write(`${describeError(error).join('\n')}\n`);
    process.exitCode = exitCodeFor(error);
  },
);
