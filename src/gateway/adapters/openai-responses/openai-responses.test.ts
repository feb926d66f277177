import { runRoundTripSuite } from '../round-trip.case.js';
import { openAiResponsesAdapter } from './index.js';

runRoundTripSuite(openAiResponsesAdapter, {
  skips: {
    'top-k': 'the Responses API has no top_k',
    'stop-sequences': 'the Responses API has no stop sequences',
    'stop-sequence-reported': 'the Responses API has no stop sequences',
    'cache-control': 'OpenAI caches prompts automatically; there are no markers',
    'tool-result-error-flag':
      'function_call_output has no error flag; the text is prefixed with "Error: " instead',
    'image-detail': 'input_image always carries a detail; "auto" is added when absent',
    'reasoning-budget': 'the Responses API takes an effort, not a budget',
    'several-system-parts': 'system parts become one `instructions` string',
  },
  reasoningPart: { type: 'reasoning', text: 'Let me think.', encryptedContent: 'gAAAA==', itemId: 'rs_1' },
  invalidBodies: [
    { model: 'm', input: 5 },
    { model: 'm', input: [{ type: 'local_shell_call' }] },
    { model: 'm', input: [{ role: 'robot', content: 'x' }] },
    { model: 'm', input: [{ type: 'function_call_output', output: 'x' }] },
    { model: 'm', input: 'hi', previous_response_id: 'resp_1' },
    { model: 'm', input: [{ role: 'user', content: [{ type: 'input_file', file_id: 'f' }] }] },
  ],
});
