import type { z } from 'zod';

/**
 * Parses `text` as JSON and validates it against `schema`. `refuse` turns a problem ("is not JSON
 * (…)", "is not <what>: <path>: <rule>") into the caller's error, which names the file.
 */
export function parseJsonDocument<T extends z.ZodType>(text: string, schema: T, what: string, refuse: (problem: string) => Error): z.infer<T> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw refuse(`is not JSON (${(error as Error).message})`);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw refuse(`is not ${what}: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  return parsed.data;
}
