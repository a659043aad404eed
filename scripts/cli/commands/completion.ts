import type { CommandRun } from '../context';
import { ExitCode, KeyrotorError } from '../../../pipeline/errors';

/** `rotate completion bash|zsh`: the completion script, generated from the program's own definition. */
export const run: CommandRun = async (ctx, _options, args) => {
  const shell = args[0] ?? '';
  if (shell !== 'bash' && shell !== 'zsh') {
    throw new KeyrotorError(`no completion for shell "${shell}" (bash or zsh)`, { fault: 'operator', nextStep: '`rotate completion bash` or `rotate completion zsh`' });
  }
  const { completionScript } = await import('../completion');
  ctx.io.out(completionScript(shell));
  return ExitCode.ok;
};
