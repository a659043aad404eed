/**
 * One mark per stage state, shared by every view (live, plain lines, `rotate status`): waiting,
 * skipped, failed and done never look alike, and a stage not reached stays pending.
 */
import type { StageStatus } from '../../../pipeline/state/types';

export const MARK: Readonly<Record<StageStatus, string>> = {
  pending: '·',
  running: '…',
  waiting: '⏸',
  done: '✔',
  failed: '✖',
  undone: '↶',
  skipped: '↷',
};

/** How a stage's state reads next to its mark (`waiting for time` rather than just `waiting`). */
export function statusWords(status: StageStatus, waitingFor?: 'time' | 'people'): string {
  if (status === 'waiting' && waitingFor) return `waiting for ${waitingFor}`;
  return status;
}
