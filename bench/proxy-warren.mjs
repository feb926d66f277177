// Warren's egress proxy for the benchmark, recording into Warren's own store (dist/store): the flows of
// each event-loop turn in one commit, each response's last bytes held until its flow is stored.
// WARREN_BENCH_SINK=batched hands the store each flow 50 ms late instead, in batches, as Warren did
// before flows were made durable at once (a kill lost the last 50 ms): the cost of durability is the
// difference. Prints its port on stdout; prints the number of recorded flows on stderr when it gets SIGTERM.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCertificateAuthority, createEgressProxy, policyFromArguments } from '../dist/proxy/index.js';
import { openStore } from '../dist/store/index.js';

const dir = mkdtempSync(join(tmpdir(), 'warren-bench-'));
const store = openStore(join(dir, 'warren.db'));
let batch = [];
let scheduled = false;
const delayedSink = {
  record(flow) {
    batch.push(flow);
    if (scheduled) return;
    scheduled = true;
    setTimeout(() => {
      scheduled = false;
      for (const queued of batch.splice(0)) store.flows.record(queued);
    }, 50);
  },
};
const sink = process.env.WARREN_BENCH_SINK === 'batched' ? delayedSink : store.flows;

const ca = await createCertificateAuthority({ dir: join(dir, 'ca') });
const proxy = createEgressProxy({ ca, sink });
const listener = await proxy.listen(
  { port: 0 },
  { id: 'bench', policy: policyFromArguments({ allow: ['127.0.0.1'] }) },
);
process.stdout.write(`${listener.address}\n`);
process.on('SIGTERM', () => {
  for (const queued of batch.splice(0)) store.flows.record(queued);
  process.stderr.write(`recorded ${store.flows.count('bench')}\n`);
  process.exit(0);
});
