import { openHome } from '../../config/index.js';
import { WarrenError } from '../../errors/index.js';
import { OPERATOR_NAME } from '../../server/auth/auth-service.js';
import { checkPasswordStrength, hashPassword } from '../../server/auth/password.js';
import { openStore } from '../../store/index.js';
import type { CliCommand, CliContext } from '../command.js';
import { parseCommandArgs } from '../parse.js';

const usage = 'warren passwd';

const help = `Usage: ${usage}

Sets the password of Warren's web app (asked twice, without echo, on a terminal; read from the first
line of stdin otherwise). Every device logged in with the old password is logged out.
`;

/** Reads one line from a terminal in raw mode, echoing nothing. */
function askHidden(context: CliContext, prompt: string): Promise<string> {
  const stdin = context.stdin;
  // Echo off before the prompt shows: someone (or a script) typing as soon as it appears must not be echoed.
  stdin.setRawMode(true);
  context.stderr.write(prompt);
  return new Promise((resolve, reject) => {
    let line = '';
    stdin.resume();
    const finish = (error?: Error) => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      context.stderr.write('\n');
      if (error) reject(error);
      else resolve(line);
    };
    const onData = (chunk: Buffer) => {
      for (const character of chunk.toString('utf8')) {
        if (character === '\r' || character === '\n') return finish();
        if (character === '\u0003' || character === '\u0004')
          return finish(new WarrenError('invalid-argument', 'cancelled'));
        if (character === '\u007f' || character === '\b') line = line.slice(0, -1);
        else line += character;
      }
    };
    stdin.on('data', onData);
  });
}

async function readFirstLine(stdin: NodeJS.ReadableStream): Promise<string> {
  let text = '';
  for await (const chunk of stdin) {
    text += chunk.toString();
    if (text.includes('\n')) break;
  }
  return text.split(/\r?\n/)[0] ?? '';
}

export const passwdCommand: CliCommand = {
  name: 'passwd',
  summary: 'set the password of the web app',
  help,
  async run(args, context) {
    parseCommandArgs(args, {}, usage);
    let password: string;
    if (context.stdin.isTTY) {
      password = await askHidden(context, 'New password: ');
      checkPasswordStrength(password);
      const again = await askHidden(context, 'Repeat it: ');
      if (again !== password)
        throw new WarrenError('invalid-argument', 'the two passwords differ; nothing changed');
    } else {
      password = await readFirstLine(context.stdin);
      checkPasswordStrength(password);
    }
    const hash = await hashPassword(password);
    const store = openStore(openHome(context.env).databasePath);
    try {
      const now = Date.now();
      const user = store.auth.setPassword(OPERATOR_NAME, hash, now);
      const revoked = store.auth.revokeOtherLogins(user.id, undefined, now);
      context.stdout.write(`Password set.${revoked > 0 ? ` ${revoked} login(s) ended.` : ''}\n`);
    } finally {
      store.close();
    }
    return 0;
  },
};
