// ts-jest in transpile-only mode (isolatedModules) strips types without type-checking — tsc does
// that in `npm test` first — so suites start fast. execa and its dependencies are ESM-only, so they
// are transformed to CommonJS for jest's module registry (Node itself loads them via require(esm)).
// Why not jest 30 / @swc/jest: their platform-specific optional binaries are not all on the
// registry these machines reach, so `npm ci` rejects the lock file they produce.

// Workers inherit this: the SDK's Node 20 deprecation notice would otherwise repeat in every suite.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const esmOnly = [
  'execa', 'figures', 'get-stream', 'human-signals', 'is-plain-obj', 'is-stream', 'is-unicode-supported',
  'npm-run-path', 'parse-ms', 'path-key', 'pretty-ms', 'strip-final-newline', 'unicorn-magic',
  'yoctocolors', '@sindresorhus', '@sec-ant',
];
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.(t|j|mj)s$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.jest.json', diagnostics: false }],
  },
  transformIgnorePatterns: [`/node_modules/(?!(${esmOnly.join('|')})/)`],
  // unicorn-magic exports only an "import" condition, which jest's CommonJS resolver skips.
  moduleNameMapper: { '^unicorn-magic$': '<rootDir>/node_modules/unicorn-magic/node.js' },
  moduleFileExtensions: ['ts', 'js', 'mjs', 'cjs', 'json'],
  testTimeout: 30000,
  // Two workers on the two cores the machines have: many suites wait on child processes, the
  // emulator and fsync, so two overlap well (about 2.3 min instead of 4 for one worker).
  maxWorkers: 2,
};
