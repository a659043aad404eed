import { userIdOf } from './callers';
import type { OperationTable } from './operation';
import type { AwsServiceError } from './service-error';

/** STS (query protocol): GetCallerIdentity — the caller's UserId, Account and Arn. */
export function stsOperations(): OperationTable {
  return {
    GetCallerIdentity: {
      mutating: false,
      handle: (_input, ctx) => ({ UserId: userIdOf(ctx.caller.arn), Account: ctx.caller.account, Arn: ctx.caller.arn }),
    },
  };
}

const escapeXml = (text: string): string =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');

/** The query protocol's success document: <OpResponse><OpResult>…</OpResult><ResponseMetadata/></OpResponse>. */
export function queryResponseXml(operation: string, result: Record<string, unknown>, requestId: string): string {
  const members = Object.entries(result)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `<${k}>${escapeXml(String(v))}</${k}>`)
    .join('');
  return (
    `<${operation}Response xmlns="https://sts.amazonaws.com/doc/2011-06-15/">` +
    `<${operation}Result>${members}</${operation}Result>` +
    `<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${operation}Response>`
  );
}

/** The query protocol's error document: <ErrorResponse><Error><Type/><Code/><Message/></Error>. */
export function queryErrorXml(error: AwsServiceError, requestId: string): string {
  return (
    `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error>` +
    `<Type>${error.status >= 500 ? 'Receiver' : 'Sender'}</Type><Code>${escapeXml(error.code)}</Code>` +
    `<Message>${escapeXml(error.message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`
  );
}
