import type { CommandRun } from '../context';
import { KeyrotorError } from '../../../pipeline/errors';

// Placeholder until this command lands; replaced by its real implementation.
export const run: CommandRun = async () => {
  throw new KeyrotorError('`rotate cancel-deletion` is not available yet in this build', { fault: 'internal' });
};
