'use strict';
// Preloaded (NODE_OPTIONS=--require) into every node process of a bench run: appends the process's
// peak RSS in KiB to $KEYROTOR_RSS_FILE at exit, for machines without /usr/bin/time.
const fs = require('node:fs');
const file = process.env.KEYROTOR_RSS_FILE;
if (file) {
  process.on('exit', () => {
    fs.appendFileSync(file, `${process.resourceUsage().maxRSS}\n`);
  });
}
