import type { EmulatorRequestContext, EmulatorResponse } from '../http/types.js';
import type { EmulatorModule, EmulatorModuleContext } from '../module.js';
import { requestChangeOrigin } from '../realtime/change-origin.js';
import { readSoapCall } from './soap-endpoint.js';
import { SoapFault, soapFaultXml, soapResponse } from './soap-envelope.js';
import { SOAP_OPERATIONS } from './soap-operations.js';

const XML_CONTENT_TYPE = 'text/xml;charset=UTF-8';

/**
 * A minimal partner SOAP API at `POST /services/Soap/u/{version}` (and `…/{version}/{orgId}`, the
 * `serverUrl` form): `convertLead`, `merge`, `undelete` and `describeTabs` (see `soap-operations.ts`). The session
 * comes from the `SessionHeader` in the envelope (jsforce sends no `Authorization` header for SOAP);
 * each call counts against the daily API limit. Other operations answer a SOAP fault.
 */
export const soapModule: EmulatorModule = {
  name: 'soap',
  create(context) {
    const handler = (request: EmulatorRequestContext): Promise<EmulatorResponse> =>
      handleSoap(context, request);
    for (const pattern of ['/services/Soap/u/:soapVersion', '/services/Soap/u/:soapVersion/:orgId']) {
      context.router.add({ method: 'POST', pattern, kind: 'public', name: `POST ${pattern}`, handler });
    }
    return undefined;
  },
};

async function handleSoap(
  context: EmulatorModuleContext,
  request: EmulatorRequestContext,
): Promise<EmulatorResponse> {
  try {
    const soap = await readSoapCall(context, request);
    const operation = SOAP_OPERATIONS[soap.operation];
    if (!operation) {
      throw new SoapFault(
        'soapenv:Client',
        `No operation available for request {urn:partner.soap.sforce.com}${soap.operation}, please check the WSDL for the service.`,
        true,
      );
    }
    // Change events carry the API and the caller's `Sforce-Call-Options` client tag (HTTP header).
    const origin = requestChangeOrigin(request, 'soap');
    const results = context.store.withOrigin(origin, () =>
      operation({ body: soap.body, context, baseUrl: request.baseUrl }),
    );
    return {
      status: 200,
      headers: { 'Content-Type': XML_CONTENT_TYPE },
      body: soapResponse(soap.operation, results, context.apiUsage()),
    };
  } catch (error) {
    if (!(error instanceof SoapFault)) throw error;
    return { status: 500, headers: { 'Content-Type': XML_CONTENT_TYPE }, body: soapFaultXml(error) };
  }
}
