/**
 * How long the emulators keep an idle keep-alive connection open: well past any client's own idle
 * timeout, and below Node's 60 s `headersTimeout`. With Node's 5 s default, undici (jsforce,
 * `fetch`) takes the server's `Keep-Alive: timeout=5` hint minus 2 s and checks it on a coarse
 * timer; on a loaded machine a client then reused a connection the emulator had just closed
 * ("other side closed"). Each emulator's `stop()` closes every connection anyway.
 */
export const EMULATOR_KEEP_ALIVE_TIMEOUT_MS = 30_000;
