import type { Api } from './api.js';

/** A server event as /api/events sends it. */
export interface ServerEvent {
  type: 'session-started' | 'session-ended' | 'session-removed' | 'flow-recorded' | 'store-status';
  sessionId?: string;
  /** store-status: which records the disk refuses (`error` set) or takes again, and the server's line. */
  status?: { records: string; pendingRows: number; droppedRows: number; error?: string };
  message?: string;
  session?: { id: string; state: string; agent: string; exitCode: number | null };
  flow?: import('./api.js').FlowSummary;
}

/** What every page gets: the API client, navigation and live events. */
export interface AppContext {
  api: Api;
  navigate(hash: string): void;
  /** Subscribes to server events until the returned function is called. */
  onEvent(listener: (event: ServerEvent) => void): () => void;
  /** Shows a message in the page's banner (text only). */
  notice(message: string, kind?: 'error' | 'info'): void;
  /** This device's login ended elsewhere (a socket said so): go to the login page and say why. */
  loggedOut(reason: string): void;
}
