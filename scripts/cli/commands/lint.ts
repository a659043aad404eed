/**
 * `rotate lint`: validate the config, lint every key ring's key policy, and check the approver set
 * (allowed_signers exists and parses, every key is usable, no example keys, every quorum reachable
 * by distinct people once the initiator is left out), and every Region name against the AWS SDK's list.
 * Exit 0 clean, 1 findings (ExitCode.notSatisfied), 2 config invalid (every issue printed).
 * Loads only the config, policy and approvals modules and the AWS SDK's Region list (no clients), no cdktf.
 */
import type { CommandRun } from '../context';
import { ConfigError, ExitCode } from '../../../pipeline/errors';
import { loadConfig } from '../../../pipeline/config/load';
import { describeFinding, lintConfig } from '../../../pipeline/policy/lint';
import { describeApproverFinding, lintApprovers } from '../../../pipeline/approvals/lint-approvers';
import { emitJson } from '../json/output';

export const run: CommandRun = async (ctx) => {
  const { io, global, env } = ctx;
  let config;
  try {
    config = loadConfig(global.config);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    if (global.json) {
      emitJson(ctx, { ok: false, config: error.file, configErrors: [...error.issues], findings: [], approverFindings: [] });
    } else {
      io.err(`config ${error.file} cannot be used (${error.issues.length} problem${error.issues.length === 1 ? '' : 's'}):`);
      for (const issue of error.issues) io.err(`  - ${issue}`);
      if (error.nextStep) io.err(`next: ${error.nextStep}`);
    }
    return ExitCode.operatorError;
  }

  const findings = lintConfig(config);
  const approverFindings = await lintApprovers(config, { env });
  const { unknownRegions } = await import('../../../pipeline/config/regions');
  const regionFindings = unknownRegions(config);
  const total = findings.length + approverFindings.length + regionFindings.length;
  if (global.json) {
    emitJson(ctx, { ok: total === 0, config: config.file, configErrors: [], findings, approverFindings, regionFindings });
  } else if (total === 0) {
    io.out(`${config.file}: ${config.keyrings.length} key rings, every key policy passes the lint, every approver set can reach its quorum`);
    io.out('next: `rotate synth` for the stacks, `rotate plan KEYRING` for a rotation');
  } else {
    io.err(`${config.file}: ${total} lint finding${total === 1 ? '' : 's'}:`);
    for (const finding of findings) io.err(`  - ${describeFinding(finding)}`);
    for (const finding of approverFindings) io.err(`  - ${describeApproverFinding(finding)}`);
    for (const finding of regionFindings) io.err(`  - ${finding.message}`);
    if (findings.length > 0 || regionFindings.length > 0) io.err('next: fix the key rings named above in the config, then run `rotate lint` again');
    if (approverFindings.length > 0) io.err('next: fix the approver set through a pull request to the allowed_signers file (approvers/README.md), then run `rotate lint` again');
  }
  return total === 0 ? ExitCode.ok : ExitCode.notSatisfied;
};
