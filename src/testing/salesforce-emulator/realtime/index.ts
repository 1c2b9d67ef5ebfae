/**
 * Types of the emulator's real-time controls (`emulator.realtime`: CometD/Change Data Capture and
 * outbound messages). The modules themselves are built in and stay private.
 *
 * @packageDocumentation
 */

export {
  type EmulatorOutboundMessageInput,
  type EmulatorRealtimeControls,
  type EmulatorRetainedChangeEvent,
  emulatorRealtime,
} from './controls.js';
export type { EmulatorOutboundDelivery, EmulatorOutboundMessageConfig } from './outbound-messages-module.js';
