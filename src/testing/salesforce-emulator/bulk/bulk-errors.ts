import { EmulatorHttpError } from '../http/errors.js';

/**
 * Bulk API 2.0 error bodies use the REST shape (`[{"errorCode","message"}]`); job-definition
 * problems are `INVALIDJOB` with an `InvalidJob : …` message, as the Bulk API reports them.
 */
export function invalidJob(message: string): EmulatorHttpError {
  return new EmulatorHttpError(400, 'INVALIDJOB', `InvalidJob : ${message}`);
}

/** A request the job's current state does not allow (409 `INVALIDJOBSTATE`). */
export function invalidJobState(message: string): EmulatorHttpError {
  return new EmulatorHttpError(409, 'INVALIDJOBSTATE', message);
}

/** An enum value the JSON body cannot hold (what Salesforce's JSON deserialiser answers). */
export function badEnum(property: string, value: unknown, allowed: readonly string[]): EmulatorHttpError {
  return new EmulatorHttpError(
    400,
    'JSON_PARSER_ERROR',
    `Cannot deserialize value of ${property} from String "${String(value)}": value not one of declared Enum instance names: [${allowed.join(', ')}]`,
  );
}

/** Reads a JSON object body or answers 400 like Salesforce does for a missing/non-object body. */
export function requireObjectBody(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new EmulatorHttpError(400, 'JSON_PARSER_ERROR', 'The request body must be a JSON object');
  }
  return body as Record<string, unknown>;
}
