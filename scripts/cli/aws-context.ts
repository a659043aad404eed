/**
 * Which AWS a command talks to, said once before it acts: the endpoint (with an EMULATOR mark when
 * it is the local test double), the account, the Region and the caller ARN that STS reports for
 * the credentials. On stderr for people; in the `context` field of the JSON output for machines.
 */
import type { AwsClients } from '../../pipeline/aws/clients';
import type { AwsService, EndpointSource } from '../../pipeline/aws/endpoints';
import type { CliContext } from './context';

export interface AwsContext {
  /** Where each service's requests go (`url` null: the AWS endpoint of the Region) and why. */
  readonly endpoints: Readonly<Record<AwsService, { readonly url: string | null; readonly source: EndpointSource }>>;
  /** True when any service points at a loopback endpoint: the local emulator, never AWS. */
  readonly emulator: boolean;
  readonly account: string;
  readonly region: string;
  /** STS GetCallerIdentity's ARN for the credentials in use. */
  readonly callerArn: string;
}

const SOURCE_WORDS: Readonly<Record<EndpointSource, string>> = {
  option: '--endpoint',
  'service-env': 'AWS_ENDPOINT_URL_<SERVICE>',
  'global-env': 'AWS_ENDPOINT_URL',
  'aws-default': 'AWS default',
};

/** The context of a client set; asks STS who the caller is (one GetCallerIdentity, no permission needed). */
export async function awsContextOf(clients: AwsClients, caller: { account: string; arn: string }): Promise<AwsContext> {
  const { isLoopbackEndpoint } = await import('../../pipeline/aws/endpoints');
  const endpoints = Object.fromEntries(
    Object.entries(clients.endpoints).map(([service, e]) => [service, { url: e.url ?? null, source: e.source }]),
  ) as unknown as AwsContext['endpoints'];
  const emulator = Object.values(clients.endpoints).some((e) => isLoopbackEndpoint(e.url));
  return { endpoints, emulator, account: caller.account, region: clients.region, callerArn: caller.arn };
}

/** The banner lines (at most 100 columns each, ARN aside). */
export function describeAwsContext(context: AwsContext): string[] {
  const entries = Object.entries(context.endpoints) as [AwsService, AwsContext['endpoints'][AwsService]][];
  const urls = [...new Set(entries.map(([, e]) => e.url))];
  let where: string;
  if (urls.length === 1) {
    const only = entries[0]![1];
    where = only.url === null ? `AWS (the public endpoints of ${context.region})` : `${only.url} (from ${SOURCE_WORDS[only.source]})`;
  } else {
    where = entries.map(([service, e]) => `${service} ${e.url ?? 'AWS'}`).join(', ');
  }
  const head = context.emulator ? `aws: EMULATOR ${where} — a local test double, not AWS` : `aws: ${where}`;
  // The caller on a line of its own: role sessions (assumed-role/<role>/<session>) are long.
  return [head, `aws: account ${context.account}, Region ${context.region}`, `aws: caller ${context.callerArn}`];
}

/**
 * Prints the banner once per AWS context (stderr; with --json the output's `context` field carries
 * the first, and `contexts` all of them when there are several): a command that spans accounts or Regions (`rotate drift`) names each one once.
 */
export function announceAwsContext(ctx: CliContext, context: AwsContext): void {
  const key = JSON.stringify([context.endpoints, context.account, context.region, context.callerArn]);
  const seen = (ctx.trace.announced ??= new Set<string>());
  if (seen.has(key)) return;
  seen.add(key);
  ctx.trace.aws ??= context;
  (ctx.trace.awsContexts ??= []).push(context);
  if (!ctx.global.json) for (const line of describeAwsContext(context)) ctx.io.err(line);
}
