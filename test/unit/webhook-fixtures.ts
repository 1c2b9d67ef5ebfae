/** Outbound-message bodies shaped like the ones Salesforce sends (ids are made up). */

export const ORG_ID = '00D5g000004ABCDEAA';
export const OTHER_ORG_ID = '00D5g000009ZZZZEAA';

export interface FixtureNotification {
  id: string;
  type: string;
  /** Field name → value; `null` renders as `xsi:nil="true"`. */
  fields: Record<string, string | null>;
}

export function outboundMessage(options: {
  organizationId?: string;
  sessionId?: string | null;
  notifications: FixtureNotification[];
}): string {
  const session =
    options.sessionId === undefined || options.sessionId === null
      ? '<SessionId xsi:nil="true"/>'
      : `<SessionId>${options.sessionId}</SessionId>`;
  const notifications = options.notifications
    .map(
      (n) =>
        `<Notification><Id>${n.id}</Id><sObject xsi:type="sf:${n.type}" xmlns:sf="urn:sobject.enterprise.soap.sforce.com">` +
        Object.entries(n.fields)
          .map(([name, value]) =>
            value === null ? `<sf:${name} xsi:nil="true"/>` : `<sf:${name}>${value}</sf:${name}>`,
          )
          .join('') +
        '</sObject></Notification>',
    )
    .join('\n   ');
  return `<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
 <soapenv:Body>
  <notifications xmlns="http://soap.sforce.com/2005/09/outbound">
   <OrganizationId>${options.organizationId ?? ORG_ID}</OrganizationId>
   <ActionId>04k5g000000ABCDAA0</ActionId>
   ${session}
   <EnterpriseUrl>https://acme.my.salesforce.com/services/Soap/c/62.0/00D5g000004ABCD</EnterpriseUrl>
   <PartnerUrl>https://acme.my.salesforce.com/services/Soap/u/62.0/00D5g000004ABCD</PartnerUrl>
   ${notifications}
  </notifications>
 </soapenv:Body>
</soapenv:Envelope>`;
}

export function contactNotification(id: string, email: string): FixtureNotification {
  return {
    id,
    type: 'Contact',
    fields: { Id: '0035g00000AbCdEAAV', Email: email, FirstName: 'Ada', LastName: 'Lovelace' },
  };
}
