import { systemFields } from '../store/objects/common.js';
import type { EmulatorObjectDefinition, EmulatorRecord } from '../store/schema.js';

/** Log levels of a DebugLevel category (Tooling API "DebugLevel"). */
const LOG_LEVELS = ['NONE', 'ERROR', 'WARN', 'INFO', 'DEBUG', 'FINE', 'FINER', 'FINEST'];

/**
 * The Tooling API objects the emulator stores (Tooling API Reference, one page each): ApexClass
 * (read-only here: creating one needs the Apex compiler), StaticResource and DebugLevel.
 */
export function toolingObjectDefinitions(): EmulatorObjectDefinition[] {
  return [
    {
      name: 'ApexClass',
      label: 'Apex Class',
      labelPlural: 'Apex Classes',
      keyPrefix: '01p',
      createable: false,
      updateable: false,
      deletable: false,
      fields: [
        ...systemFields(),
        { name: 'NamespacePrefix', type: 'string', length: 15 },
        { name: 'Name', type: 'string', length: 255 },
        { name: 'ApiVersion', type: 'double', precision: 18, scale: 1 },
        { name: 'Status', type: 'picklist', length: 40, picklistValues: ['Inactive', 'Active', 'Deleted'] },
        { name: 'IsValid', type: 'boolean' },
        { name: 'BodyCrc', type: 'double' },
        { name: 'Body', type: 'textarea', length: 1_000_000 },
        { name: 'LengthWithoutComments', type: 'int' },
      ],
    },
    {
      name: 'StaticResource',
      label: 'Static Resource',
      labelPlural: 'Static Resources',
      keyPrefix: '081',
      derive: deriveBodyLength,
      fields: [
        ...systemFields(),
        { name: 'NamespacePrefix', type: 'string', length: 15, createable: false, updateable: false },
        { name: 'Name', type: 'string', length: 255, required: true, unique: true, idLookup: true },
        { name: 'ContentType', type: 'string', length: 120, label: 'MIME Type', required: true },
        { name: 'BodyLength', type: 'int', label: 'Size', createable: false, updateable: false },
        { name: 'Body', type: 'base64', label: 'Body', required: true },
        { name: 'Description', type: 'textarea', length: 255 },
        {
          name: 'CacheControl',
          type: 'picklist',
          length: 40,
          label: 'Cache Control',
          required: true,
          picklistValues: ['Private', 'Public'],
        },
      ],
    },
    {
      name: 'DebugLevel',
      label: 'Debug Level',
      labelPlural: 'Debug Levels',
      keyPrefix: '7dl',
      fields: [
        ...systemFields(),
        { name: 'DeveloperName', type: 'string', length: 80, required: true, unique: true, idLookup: true },
        { name: 'Language', type: 'picklist', length: 40, defaultValue: 'en_US', picklistValues: ['en_US'] },
        { name: 'MasterLabel', type: 'string', length: 80, label: 'Label', required: true },
        ...[
          'ApexCode',
          'ApexProfiling',
          'Callout',
          'Database',
          'Nba',
          'System',
          'Validation',
          'Visualforce',
          'Wave',
          'Workflow',
        ].map((name) => ({ name, type: 'picklist' as const, length: 40, picklistValues: LOG_LEVELS })),
      ],
    },
  ];
}

/** StaticResource `BodyLength` is the size of the decoded body, in bytes. */
function deriveBodyLength(row: EmulatorRecord): void {
  row.BodyLength = typeof row.Body === 'string' ? Buffer.from(row.Body, 'base64').length : null;
}
