import type * as SoqlParser from '@jetstreamapp/soql-parser-js';
import { requireOptionalPeer } from '../../../internal/optional-peer.js';

/**
 * The SOQL parser, an optional peer dependency: only hosts that run the emulator install it, so
 * core and provider users never download it. Loaded when an emulator starts (a missing parser
 * fails there, naming the package) and cached by Node after that.
 */
export function loadSoqlParser(): typeof SoqlParser {
  return requireOptionalPeer<typeof SoqlParser>('@jetstreamapp/soql-parser-js', 'The Salesforce emulator');
}

/** Parse SOQL text into the parser's query tree. */
export function parseQuery(soql: string): SoqlParser.Query {
  return loadSoqlParser().parseQuery(soql);
}
