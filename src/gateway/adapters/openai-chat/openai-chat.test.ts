import { runRoundTripSuite } from '../round-trip.case.js';
import { openAiChatAdapter } from './index.js';

runRoundTripSuite(openAiChatAdapter, {
  skips: {
    'top-k': 'chat completions has no top_k',
    'stop-sequence-reported': 'chat completions does not say which stop sequence matched',
    'cache-control': 'OpenAI caches prompts automatically; there are no markers',
    'tool-result-error-flag': 'tool messages have no error flag; the text is prefixed with "Error: " instead',
    'image-in-tool-result': 'tool messages carry text only; images move to a following user message',
    'reasoning-in-requests': 'reasoning is not sent back: several servers refuse reasoning_content in input',
    'reasoning-budget': 'chat completions takes an effort, not a budget',
    'several-system-parts': 'system parts are joined into one leading system message for chat templates',
  },
  invalidBodies: [
    { model: 'm' },
    { model: 'm', messages: [{ role: 'robot', content: 'x' }] },
    { model: 'm', messages: [{ role: 'user', content: [{ type: 'input_audio' }] }] },
    { model: 'm', messages: [{ role: 'tool', content: 'x' }] },
    { model: 'm', messages: [], n: 3 },
    { model: 'm', messages: [], reasoning_effort: 'extreme' },
  ],
});
