import { openHome } from '../../config/index.js';
import { createCertificateAuthority } from '../../proxy/index.js';
import type { CliCommand } from '../command.js';
import { parseCommandArgs } from '../parse.js';

const help = `Usage: warren ca [--pem]

Prints the path of Warren's CA certificate (created on first use in $WARREN_HOME/ca).
Sandboxes trust it automatically; trust it yourself to inspect traffic of \`warren proxy\`
(e.g. curl --cacert PATH). The private key never leaves $WARREN_HOME/ca (mode 0600).

Options:
  --pem   print the certificate itself instead of its path
`;

export const caCommand: CliCommand = {
  name: 'ca',
  summary: "print the path of Warren's CA certificate",
  help,
  async run(args, context) {
    const { values } = parseCommandArgs(args, { pem: { type: 'boolean' } }, 'warren ca [--pem]');
    const ca = await createCertificateAuthority({ dir: openHome(context.env).caDir });
    context.stdout.write(values.pem ? ca.certificatePem.trimEnd() + '\n' : `${ca.certificatePath}\n`);
    return 0;
  },
};
