import type { SessionUser } from '#contracts';
import type { RelayApi } from '../api.js';
import type { ConsoleSocket } from '../realtime.js';
import type { CaseStore } from '../store.js';

/** What every signed-in view gets from the shell. */
export interface ConsoleContext {
  user: SessionUser;
  api: RelayApi;
  store: CaseStore;
  /** The live link (null for roles without one): watching boxes, mainly. */
  socket: ConsoleSocket | null;
  /** Says something to screen-reader users (polite live region). */
  announce(message: string): void;
  /** Asks the shell to reload the case list (after a conflict, for instance). */
  reload(): void;
}

export interface View {
  element: HTMLElement;
  dispose(): void;
}

export function caseHref(caseId: string): string {
  return `#/case/${encodeURIComponent(caseId)}`;
}
