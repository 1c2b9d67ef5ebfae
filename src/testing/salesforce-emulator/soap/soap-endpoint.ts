import type { EmulatorRequestContext } from '../http/types.js';
import type { EmulatorModuleContext } from '../module.js';
import { MAX_API_VERSION, MIN_API_VERSION } from '../versions.js';
import { MAX_SOAP_BODY_BYTES, parseSoapRequest, SoapFault, type SoapRequest } from './soap-envelope.js';

/**
 * What every SOAP endpoint (partner `/Soap/u`, Metadata `/Soap/m`) does before its operation:
 * checks the URL version and the body size, parses the envelope, authenticates the
 * `SessionHeader` and counts one API call.
 *
 * @throws {SoapFault} `UNSUPPORTED_API_VERSION`, `soapenv:Client`, `INVALID_SESSION_ID`,
 *   `REQUEST_LIMIT_EXCEEDED`.
 */
export async function readSoapCall(
  context: EmulatorModuleContext,
  request: EmulatorRequestContext,
  options: { attributes?: boolean } = {},
): Promise<SoapRequest> {
  const version = /^(\d{2})\.0$/.exec(request.params.soapVersion ?? '');
  const number = version ? Number(version[1]) : Number.NaN;
  if (!(number >= MIN_API_VERSION && number <= MAX_API_VERSION)) {
    request.req.resume();
    throw new SoapFault(
      'UNSUPPORTED_API_VERSION',
      `Invalid Api version specified on URL: ${request.params.soapVersion}`,
    );
  }
  if (Number(request.headers['content-length'] ?? 0) > MAX_SOAP_BODY_BYTES) {
    request.req.resume();
    throw new SoapFault('soapenv:Client', 'The request body is too large', true);
  }
  const soap = parseSoapRequest((await request.body()).toString('utf8'), options);
  if (!soap.sessionId || !context.authenticate(soap.sessionId)) {
    throw new SoapFault('INVALID_SESSION_ID', 'Invalid Session ID found in SessionHeader: Illegal Session');
  }
  if (!context.consumeApiCall())
    throw new SoapFault('REQUEST_LIMIT_EXCEEDED', 'TotalRequests Limit exceeded.');
  return soap;
}
