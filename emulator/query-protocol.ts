import type { AwsServiceError } from './service-error';

/**
 * The AWS query protocol's XML documents (STS): a success document with the operation's result,
 * nested structures as nested elements and timestamps in ISO 8601, and the error document.
 */
const escapeXml = (text: string): string =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');

function membersXml(result: Record<string, unknown>): string {
  return Object.entries(result)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => {
      if (v instanceof Date) return `<${k}>${v.toISOString()}</${k}>`;
      if (typeof v === 'object' && v !== null) return `<${k}>${membersXml(v as Record<string, unknown>)}</${k}>`;
      return `<${k}>${escapeXml(String(v))}</${k}>`;
    })
    .join('');
}

/** <OpResponse><OpResult>…</OpResult><ResponseMetadata/></OpResponse>. */
export function queryResponseXml(operation: string, result: Record<string, unknown>, requestId: string): string {
  return (
    `<${operation}Response xmlns="https://sts.amazonaws.com/doc/2011-06-15/">` +
    `<${operation}Result>${membersXml(result)}</${operation}Result>` +
    `<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${operation}Response>`
  );
}

/** <ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/></ErrorResponse>. */
export function queryErrorXml(error: AwsServiceError, requestId: string): string {
  return (
    `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error>` +
    `<Type>${error.status >= 500 ? 'Receiver' : 'Sender'}</Type><Code>${escapeXml(error.code)}</Code>` +
    `<Message>${escapeXml(error.message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`
  );
}
