import { startFakeAnthropic, startFakeOpenAi } from '../test/helpers/fake-llm.js';

/**
 * The bench's upstreams, run as their own process so that they do not share an event loop with
 * the gateway being measured. Instant ones answer at once (they measure the gateway's own cost);
 * paced ones wait 20 ms before answering and 2 ms between stream events, like a fast model.
 * Prints one JSON line with their URLs, then serves until killed.
 */
const pacing = { firstByteDelayMs: 20, eventIntervalMs: 2 };
const urls = {
  openai: (await startFakeOpenAi({ record: false, textChunk: 4 })).url,
  anthropic: (await startFakeAnthropic({ record: false, textChunk: 4 })).url,
  pacedOpenai: (await startFakeOpenAi({ record: false, textChunk: 4, ...pacing })).url,
};
process.stdout.write(`${JSON.stringify(urls)}\n`);
