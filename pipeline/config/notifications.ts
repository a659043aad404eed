/**
 * The `notifications` section of keyrings.json (its own schema, so it changes apart from the rest
 * of the config): commands run when a run starts waiting for approvals, becomes ready for its
 * deletion, fails, or completes. Each hook receives the same summary `rotate status RUN` prints
 * on stdin. A hook can post to chat, page someone, or publish to an SNS topic with the AWS CLI.
 */
import { z } from 'zod';

export const NOTIFICATION_EVENTS = ['waiting-for-approvals', 'ready-for-deletion', 'failed', 'completed'] as const;
export type NotificationEvent = (typeof NOTIFICATION_EVENTS)[number];

export const DEFAULT_HOOK_TIMEOUT_SECONDS = 30;

export interface NotificationHook {
  /** A label for messages. */
  readonly name: string;
  /** argv, run without a shell in the config's directory. */
  readonly command: readonly string[];
  /** Which events fire it. Default: all of them. */
  readonly events: readonly NotificationEvent[];
  readonly timeoutSeconds: number;
}

export interface NotificationsConfig {
  readonly hooks: readonly NotificationHook[];
}

const hookSchema = z.strictObject({
  name: z.string().min(1).max(64),
  command: z.array(z.string().min(1, { error: 'must not be empty' })).min(1, { error: 'must be a non-empty argv array, e.g. ["./notify.sh"]' }),
  events: z.array(z.enum(NOTIFICATION_EVENTS)).min(1, { error: `must name at least one of ${NOTIFICATION_EVENTS.join(', ')}` }).default([...NOTIFICATION_EVENTS]),
  timeoutSeconds: z.int().min(1).max(600).default(DEFAULT_HOOK_TIMEOUT_SECONDS),
});

export const notificationsSchema = z.strictObject({
  hooks: z.array(hookSchema).default([]),
});
