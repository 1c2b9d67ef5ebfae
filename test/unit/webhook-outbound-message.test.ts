import { describe, expect, it } from 'vitest';
import { CrmWebhookError } from '../../src/core/errors.js';
import { outboundMessageAck, parseOutboundMessage } from '../../src/salesforce/index.js';
import { contactNotification, ORG_ID, outboundMessage } from './webhook-fixtures.js';

function reasonOf(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(CrmWebhookError);
    return (error as CrmWebhookError).details?.reason;
  }
  throw new Error('expected a CrmWebhookError');
}

describe('parseOutboundMessage', () => {
  it('reads the envelope and several notifications of different sObject types', () => {
    const xml = outboundMessage({
      sessionId: '00D5g000004ABCD!AQ0AQSecretSession',
      notifications: [
        contactNotification('04l5g000000AAAAAA1', 'ada@example.com'),
        {
          id: '04l5g000000AAAAAA2',
          type: 'Lead',
          fields: { Id: '00Q5g00000XyZaBEAV', Company: 'Analytical Engines', Status: 'Open - Not Contacted' },
        },
        {
          id: '04l5g000000AAAAAA3',
          type: 'Invoice__c',
          fields: { Id: 'a015g00000QwErTAAZ', Amount__c: '007.50', Paid__c: 'false', Due__c: '2026-12-01' },
        },
      ],
    });
    const message = parseOutboundMessage(xml);
    expect(message).toEqual({
      organizationId: ORG_ID,
      actionId: '04k5g000000ABCDAA0',
      sessionId: '00D5g000004ABCD!AQ0AQSecretSession',
      enterpriseUrl: 'https://acme.my.salesforce.com/services/Soap/c/62.0/00D5g000004ABCD',
      partnerUrl: 'https://acme.my.salesforce.com/services/Soap/u/62.0/00D5g000004ABCD',
      notifications: [
        {
          id: '04l5g000000AAAAAA1',
          sObject: {
            type: 'Contact',
            fields: {
              Id: '0035g00000AbCdEAAV',
              Email: 'ada@example.com',
              FirstName: 'Ada',
              LastName: 'Lovelace',
            },
          },
        },
        {
          id: '04l5g000000AAAAAA2',
          sObject: {
            type: 'Lead',
            fields: {
              Id: '00Q5g00000XyZaBEAV',
              Company: 'Analytical Engines',
              Status: 'Open - Not Contacted',
            },
          },
        },
        {
          id: '04l5g000000AAAAAA3',
          sObject: {
            type: 'Invoice__c',
            // Values stay strings: no number or boolean coercion.
            fields: { Id: 'a015g00000QwErTAAZ', Amount__c: '007.50', Paid__c: 'false', Due__c: '2026-12-01' },
          },
        },
      ],
    });
  });

  it('tells xsi:nil (null) from an empty element (empty string) and omits a nil SessionId', () => {
    const xml = outboundMessage({
      notifications: [
        {
          id: '04l5g000000AAAAAA1',
          type: 'Contact',
          fields: { Id: '0035g00000AbCdEAAV', Phone: null, Title: '' },
        },
      ],
    });
    const message = parseOutboundMessage(xml);
    expect(message.sessionId).toBeUndefined();
    expect('sessionId' in message).toBe(false);
    expect(message.notifications[0]?.sObject.fields).toEqual({
      Id: '0035g00000AbCdEAAV',
      Phone: null,
      Title: '',
    });
  });

  it('decodes the five XML entities and character references exactly once', () => {
    const xml = outboundMessage({
      notifications: [
        {
          id: '04l5g000000AAAAAA1',
          type: 'Account',
          fields: {
            Name: 'Smith &amp; Sons &lt;UK&gt; &quot;Ltd&quot; O&apos;Neil &#233;&#x2713; &amp;#39;',
          },
        },
      ],
    });
    expect(parseOutboundMessage(xml).notifications[0]?.sObject.fields.Name).toBe(
      'Smith & Sons <UK> "Ltd" O\'Neil é✓ &#39;',
    );
  });

  it('accepts other namespace prefixes than soapenv/sf', () => {
    const xml = outboundMessage({
      notifications: [contactNotification('04l5g000000AAAAAA1', 'a@example.com')],
    })
      .replaceAll('soapenv:', 'S:')
      .replaceAll('xmlns:soapenv', 'xmlns:S')
      .replaceAll('sf:', 'ns1:')
      .replaceAll('xmlns:sf', 'xmlns:ns1');
    expect(parseOutboundMessage(xml).notifications[0]?.sObject).toMatchObject({
      type: 'Contact',
      fields: { Email: 'a@example.com' },
    });
  });

  it('handles 100 notifications in one message', () => {
    const notifications = Array.from({ length: 100 }, (_, i) =>
      contactNotification(`04l5g000000A${String(i).padStart(5, '0')}A`, `c${i}@example.com`),
    );
    const message = parseOutboundMessage(outboundMessage({ notifications }));
    expect(message.notifications).toHaveLength(100);
    expect(message.notifications[99]?.sObject.fields.Email).toBe('c99@example.com');
  });

  it('refuses a billion-laughs DOCTYPE before parsing', () => {
    const laughs = `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;"><!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>${outboundMessage(
      { notifications: [{ id: '04l5g000000AAAAAA1', type: 'Contact', fields: { LastName: '&lol3;' } }] },
    ).replace('<?xml version="1.0" encoding="UTF-8"?>', '')}`;
    expect(reasonOf(() => parseOutboundMessage(laughs))).toBe('doctype');
  });

  it('refuses an external entity (XXE), whatever the case of DOCTYPE', () => {
    const xxe = `<?xml version="1.0"?><!doctype r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><r>&xxe;</r>`;
    expect(reasonOf(() => parseOutboundMessage(xxe))).toBe('doctype');
  });

  it('leaves undeclared entities literal instead of expanding them', () => {
    const xml = outboundMessage({
      notifications: [{ id: '04l5g000000AAAAAA1', type: 'Contact', fields: { LastName: '&nbsp;x' } }],
    });
    expect(parseOutboundMessage(xml).notifications[0]?.sObject.fields.LastName).toBe('&nbsp;x');
  });

  it('bounds nesting depth', () => {
    const deep = `${'<a>'.repeat(200)}x${'</a>'.repeat(200)}`;
    const xml = outboundMessage({
      notifications: [{ id: '04l5g000000AAAAAA1', type: 'Contact', fields: { LastName: deep } }],
    });
    expect(reasonOf(() => parseOutboundMessage(xml))).toBe('malformed_xml');
  });

  it.each([
    ['malformed XML', '<soapenv:Envelope><unclosed>', 'malformed_xml'],
    ['another SOAP body', '<Envelope><Body><login/></Body></Envelope>', 'not_an_outbound_message'],
    [
      'no notifications',
      outboundMessage({ notifications: [] }).replace(/<Notification>[\s\S]*<\/Notification>/, ''),
      'missing_field',
    ],
    [
      'no OrganizationId',
      outboundMessage({
        notifications: [contactNotification('04l5g000000AAAAAA1', 'a@example.com')],
      }).replace(/<OrganizationId>[^<]*<\/OrganizationId>/, ''),
      'missing_field',
    ],
    [
      'an sObject without xsi:type',
      outboundMessage({
        notifications: [contactNotification('04l5g000000AAAAAA1', 'a@example.com')],
      }).replace(' xsi:type="sf:Contact"', ''),
      'missing_field',
    ],
    [
      'a field given twice',
      outboundMessage({
        notifications: [contactNotification('04l5g000000AAAAAA1', 'a@example.com')],
      }).replace('<sf:FirstName>', '<sf:FirstName>x</sf:FirstName><sf:FirstName>'),
      'invalid_field',
    ],
  ])('rejects %s with a 400 CrmWebhookError', (_label, xml, reason) => {
    expect(reasonOf(() => parseOutboundMessage(xml))).toBe(reason);
    try {
      parseOutboundMessage(xml);
    } catch (error) {
      expect((error as CrmWebhookError).status).toBe(400);
      expect((error as CrmWebhookError).code).toBe('WEBHOOK');
    }
  });
});

describe('outboundMessageAck', () => {
  it('is the notificationsResponse element of the outbound-message WSDL', () => {
    expect(outboundMessageAck()).toBe(
      '<?xml version="1.0" encoding="UTF-8"?>' +
        '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>' +
        '<notificationsResponse xmlns="http://soap.sforce.com/2005/09/outbound"><Ack>true</Ack></notificationsResponse>' +
        '</soapenv:Body></soapenv:Envelope>',
    );
  });

  it('can answer Ack false', () => {
    expect(outboundMessageAck(false)).toContain('<Ack>false</Ack>');
  });
});
