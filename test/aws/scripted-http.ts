import type { HttpRequest } from '@smithy/types';

/** One canned HTTP answer in the AWS JSON 1.1 protocol. */
export interface ScriptedAnswer {
  readonly status: number;
  readonly body: Record<string, unknown>;
  readonly headers?: Record<string, string>;
}

export interface RecordedRequest {
  readonly hostname: string;
  readonly port: number | undefined;
  readonly protocol: string;
  /** `X-Amz-Target` of AWS JSON requests, e.g. `TrentService.CreateKey`. */
  readonly target: string | undefined;
  readonly authorization: string | undefined;
}

/** An AWS JSON 1.1 error body as the services send it (`__type` carries the code). */
export function awsJsonError(status: number, code: string, message: string): ScriptedAnswer {
  return { status, body: { __type: code, message } };
}

/**
 * An in-process stand-in for the SDK's HTTP handler: records each request and answers from a
 * script, so the real client middleware (serializer, retry, signer, deserializer) runs without a
 * server and without real time beyond the retry backoff.
 */
export function scriptedHttp(answer: (request: RecordedRequest, index: number) => ScriptedAnswer) {
  const requests: RecordedRequest[] = [];
  const handler = {
    async handle(request: HttpRequest) {
      const headers = Object.fromEntries(Object.entries(request.headers).map(([k, v]) => [k.toLowerCase(), v]));
      const recorded: RecordedRequest = {
        hostname: request.hostname,
        port: request.port,
        protocol: request.protocol,
        target: headers['x-amz-target'],
        authorization: headers['authorization'],
      };
      requests.push(recorded);
      const scripted = answer(recorded, requests.length - 1);
      return {
        response: {
          statusCode: scripted.status,
          headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': `req-${requests.length}`, ...scripted.headers },
          body: new TextEncoder().encode(JSON.stringify(scripted.body)),
        },
      };
    },
    updateHttpClientConfig() {},
    httpHandlerConfigs() {
      return {};
    },
  };
  return { handler, requests };
}
