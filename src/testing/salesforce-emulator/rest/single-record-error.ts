import { EmulatorHttpError } from '../http/errors.js';
import { RecordFailure } from '../store/record-error.js';

/**
 * Turns a store failure into the single-record REST error (`errorCode` key, status from the
 * failure), e.g. 400 `[{"message":"Required fields are missing: [LastName]","errorCode":"REQUIRED_FIELD_MISSING","fields":["LastName"]}]`.
 */
export function toHttpError(error: unknown): unknown {
  if (!(error instanceof RecordFailure)) return error;
  return new EmulatorHttpError(error.httpStatus, error.statusCode, error.message, error.fields);
}
