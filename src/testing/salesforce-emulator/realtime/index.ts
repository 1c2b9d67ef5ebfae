/**
 * Real-time features of the emulator: CometD/Change Data Capture and outbound messages.
 *
 * @packageDocumentation
 */

export { requestChangeOrigin } from './change-origin.js';
export { cometdModule, type RetainedChangeEvent } from './cometd-module.js';
export {
  type EmulatorOutboundMessageInput,
  type EmulatorRealtimeControls,
  type EmulatorRealtimeTarget,
  type EmulatorRetainedChangeEvent,
  emulatorRealtime,
} from './controls.js';
export {
  type EmulatorOutboundDelivery,
  type EmulatorOutboundMessageConfig,
  outboundMessagesModule,
} from './outbound-messages-module.js';
