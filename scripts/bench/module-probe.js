'use strict';
// Preloaded by the bench (NODE_OPTIONS=--require): reports how many modules the process loaded,
// on stderr at exit, so start-up cost can be told apart from work.
process.on('exit', () => {
  require('node:fs').writeSync(2, `\nkeyrotor-bench-modules: ${Object.keys(require.cache).length}\n`);
});
