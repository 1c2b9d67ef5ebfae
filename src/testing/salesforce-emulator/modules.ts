import { quickActionsModule } from './actions/quick-actions.js';
import { dashboardsModule } from './analytics/dashboards-module.js';
import { reportsModule } from './analytics/reports-module.js';
import { bulkModule } from './bulk/bulk-module.js';
import { bulk1Module } from './bulk1/bulk1-module.js';
import { chatterModule } from './chatter/chatter-module.js';
import { metadataModule } from './metadata/metadata-module.js';
import type { EmulatorModule } from './module.js';
import { cometdModule } from './realtime/cometd-module.js';
import { outboundMessagesModule } from './realtime/outbound-messages-module.js';
import { restModule } from './rest/rest-module.js';
import { soapModule } from './soap/soap-module.js';
import { toolingModule } from './tooling/tooling-module.js';
import { uiModule } from './ui/ui-module.js';

/**
 * Modules every emulator installs, in order. Bulk API 2.0 and SOAP register here too (one import
 * and one entry each) — see docs/emulator-rules.md.
 */
export const builtInModules: readonly EmulatorModule[] = [
  uiModule,
  // Before REST: `sobjects/X/quickActions` is not an external-id path.
  quickActionsModule,
  // Before REST: `sobjects/StreamingChannel/{id}/push` is not an external-id path.
  cometdModule,
  restModule,
  toolingModule,
  chatterModule,
  reportsModule,
  dashboardsModule,
  bulkModule,
  bulk1Module,
  soapModule,
  metadataModule,
  outboundMessagesModule,
];
