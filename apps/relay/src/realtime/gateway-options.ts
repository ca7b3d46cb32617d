import { SOCKET_PATH } from '#contracts';

/**
 * Every gateway uses exactly these options: Nest attaches gateways with the same options to
 * one Socket.IO server, so they share its authentication middleware and its clients.
 */
export const GATEWAY_OPTIONS = { path: SOCKET_PATH, cors: { origin: true } };
