#!/usr/bin/env node
// Entry point for `npx warren` / the npm bin. The CLI is compiled to dist/ by `npm run build`
// (run automatically by `npm install` through the prepare script).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const entry = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  process.stderr.write(
    'warren: dist/ is missing. Run `npm install` (or `npm run build`) in the checkout first.\n',
  );
  process.exit(1);
}
const { main } = await import(entry.href);
process.exitCode = await main(process.argv.slice(2));
