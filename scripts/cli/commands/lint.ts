/**
 * `rotate lint`: validate the config and lint every key ring's key policy.
 * Exit 0 clean, 1 findings (ExitCode.notSatisfied), 2 config invalid (every issue printed).
 * Loads only the config and policy modules: no AWS SDK, no cdktf.
 */
import type { CommandRun } from '../context';
import { ConfigError, ExitCode } from '../../../pipeline/errors';
import { loadConfig } from '../../../pipeline/config/load';
import { describeFinding, lintConfig } from '../../../pipeline/policy/lint';

export const run: CommandRun = async ({ io, global }) => {
  let config;
  try {
    config = loadConfig(global.config);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    if (global.json) {
      io.out(JSON.stringify({ ok: false, config: error.file, configErrors: error.issues, findings: [] }, null, 2));
    } else {
      io.err(`config ${error.file} cannot be used (${error.issues.length} problem${error.issues.length === 1 ? '' : 's'}):`);
      for (const issue of error.issues) io.err(`  - ${issue}`);
      if (error.nextStep) io.err(`next: ${error.nextStep}`);
    }
    return ExitCode.operatorError;
  }

  const findings = lintConfig(config);
  if (global.json) {
    io.out(JSON.stringify({ ok: findings.length === 0, config: config.file, configErrors: [], findings }, null, 2));
  } else if (findings.length === 0) {
    io.out(`${config.file}: ${config.keyrings.length} key rings, every key policy passes the lint`);
  } else {
    io.err(`${config.file}: ${findings.length} lint finding${findings.length === 1 ? '' : 's'}:`);
    for (const finding of findings) io.err(`  - ${describeFinding(finding)}`);
    io.err('next: fix the key rings named above in the config, then run `rotate lint` again');
  }
  return findings.length === 0 ? ExitCode.ok : ExitCode.notSatisfied;
};
