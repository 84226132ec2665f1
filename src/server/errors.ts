// Every error the server answers goes through `errorResponse`: one mapping
// from typed errors to HTTP status and OpenAI's {error:{message,type,param,code}}.
import type { z } from 'zod';
import { BusyError, EngineClosedError, InvalidRequestError, NonFiniteLogitsError } from '../engine/errors.ts';

/** An HTTP-level failure the server itself detects (auth, routing, body size). */
export class HttpError extends Error {
  constructor(
    readonly status: 400 | 401 | 404 | 405 | 413 | 415 | 429 | 500 | 503,
    message: string,
    readonly type: string,
    readonly code: string | null = null,
    readonly param: string | null = null,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export const invalidApiKey = (given: boolean) => new HttpError(401,
  given ? 'Incorrect API key provided.' : 'You didn\'t provide an API key. Provide it as a bearer token: Authorization: Bearer YOUR_KEY.',
  'invalid_request_error', 'invalid_api_key');

export const modelNotFound = (model: string, served: string) => new HttpError(404,
  `The model '${model}' does not exist; this server serves '${served}'.`, 'invalid_request_error', 'model_not_found', 'model');

// The unread rest of the body would follow on the connection: it is closed rather than reused.
export const bodyTooLarge = (limit: number) => new HttpError(413,
  `Request body is larger than the limit of ${limit} bytes.`, 'invalid_request_error', 'request_too_large', null, { Connection: 'close' });

export const unsupportedMediaType = (given: string | undefined) => new HttpError(415,
  `Unsupported Content-Type ${given ? `'${given}'` : '(none)'}: send the request body as JSON with Content-Type: application/json.`,
  'invalid_request_error', 'unsupported_media_type');

export const malformedJson = (detail: string) => new HttpError(400,
  `We could not parse the JSON body of your request (${detail}). Send valid JSON with Content-Type: application/json.`,
  'invalid_request_error', 'invalid_json');

export const notFound = (method: string, path: string) => new HttpError(404,
  `Unknown request URL: ${method} ${path}.`, 'invalid_request_error', 'unknown_url');

/** The first schema issue as an OpenAI error: param is the field's path ("messages.0.role"). */
export function schemaError(error: z.ZodError): HttpError {
  const issue = error.issues[0];
  if (issue.code === 'unrecognized_keys') {
    const param = [...issue.path.map(String), issue.keys[0]].join('.');
    return new HttpError(400, `Unrecognized request argument supplied: ${param}. This server does not know it, so it would have no effect.`, 'invalid_request_error', 'unknown_parameter', param);
  }
  const param = issue.path.length > 0 ? issue.path.map(String).join('.') : null;
  return new HttpError(400, param ? `Invalid value for '${param}': ${issue.message}` : issue.message, 'invalid_request_error', 'invalid_value', param);
}

export interface OpenAIErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

export interface ErrorAnswer {
  status: number;
  body: OpenAIErrorBody;
  headers: Record<string, string>;
}

export function errorAnswer(error: unknown): ErrorAnswer {
  const answer = (status: number, message: string, type: string, code: string | null, param: string | null, headers: Record<string, string> = {}): ErrorAnswer =>
    ({ status, body: { error: { message, type, param, code } }, headers });
  if (error instanceof HttpError) return answer(error.status, error.message, error.type, error.code, error.param, error.headers);
  if (error instanceof InvalidRequestError) return answer(400, error.message, 'invalid_request_error', error.code, error.param);
  if (error instanceof BusyError) {
    return answer(429, error.message, 'rate_limit_exceeded', 'engine_busy', null, { 'Retry-After': String(error.retryAfterSeconds) });
  }
  if (error instanceof EngineClosedError) return answer(503, error.message, 'server_error', 'engine_closed', null);
  if (error instanceof NonFiniteLogitsError) return answer(500, error.message, 'server_error', 'non_finite_logits', null);
  const message = error instanceof Error ? error.message : String(error);
  return answer(500, `The server had an error while processing your request: ${message}`, 'server_error', null, null);
}

export function errorResponse(error: unknown): Response {
  const { status, body, headers } = errorAnswer(error);
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json', ...headers } });
}
