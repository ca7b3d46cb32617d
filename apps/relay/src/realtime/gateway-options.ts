import { SOCKET_PATH } from '#contracts';

/**
 * Every gateway uses exactly these options: Nest attaches gateways with the same options to
 * one Socket.IO server, so they share its authentication middleware and its clients. Which
 * origins may connect is configuration, added by `OriginCheckedIoAdapter`.
 */
export const GATEWAY_OPTIONS = { path: SOCKET_PATH };
