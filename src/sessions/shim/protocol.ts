import type { SessionExit } from '../lifecycle.js';

/**
 * The session shim (shim-main.ts) and the server that attaches to it talk over the shim's control socket
 * in newline-delimited JSON messages. Output travels as text (node-pty hands out UTF-8 strings).
 */

/** What the server sends: keystrokes, the terminal size, a signal for the command, back-pressure. */
export type ShimRequest =
  | { type: 'terminal-input'; data: string }
  | { type: 'terminal-resize'; cols: number; rows: number }
  | { type: 'process-signal'; signal: NodeJS.Signals };

/** What the shim sends: the current screen on attach, then output as the command writes it, then its exit. */
export type ShimEvent =
  | {
      type: 'shim-hello';
      shimPid: number;
      commandPid: number;
      cols: number;
      rows: number;
      /** Escape sequences that redraw the screen, scrollback and modes, output written while detached included. */
      snapshot: string;
      exit?: SessionExit;
    }
  | { type: 'terminal-output'; data: string }
  | { type: 'process-exited'; exit: SessionExit };

/** What the server hands the shim when it starts it (a JSON file, mode 0600, that the shim deletes). */
export interface ShimConfig {
  sessionId: string;
  /** The sandbox launch: file, args, env, cwd (LaunchPlan without its functions). */
  command: { file: string; args: string[]; env: Record<string, string>; cwd?: string };
  cols: number;
  rows: number;
  /** The control socket the server attaches to (in the session's private run folder). */
  controlSocket: string;
  /** The asciicast file the shim writes, so the recording goes on while no server is attached. */
  recordingPath?: string;
  /** Where the shim writes the command's exit as JSON once it has ended and its output is drained. */
  exitPath: string;
  /**
   * The session's proxy socket (the one bound into the sandbox), which the shim owns for the session's
   * lifetime, and the server's listener it relays each connection to (relay.ts).
   */
  proxy?: { socketPath: string; serverPath: string; holdMs?: number };
}

/** Splits a byte stream into newline-delimited JSON messages. */
export function createMessageReader<Message>(onMessage: (message: Message) => void): (chunk: Buffer) => void {
  let buffered = '';
  return (chunk) => {
    buffered += chunk.toString('utf8');
    let newline = buffered.indexOf('\n');
    while (newline >= 0) {
      const line = buffered.slice(0, newline);
      buffered = buffered.slice(newline + 1);
      if (line.length > 0) onMessage(JSON.parse(line) as Message);
      newline = buffered.indexOf('\n');
    }
  };
}

export function encodeMessage(message: ShimRequest | ShimEvent): string {
  return `${JSON.stringify(message)}\n`;
}
