import { runRoundTripSuite } from '../round-trip.case.js';
import { anthropicMessagesAdapter } from './index.js';

runRoundTripSuite(anthropicMessagesAdapter, {
  skips: {
    'image-detail': 'Anthropic images have no detail hint',
    'reasoning-effort': 'Anthropic takes a thinking budget; an effort is turned into one',
  },
  reasoningPart: { type: 'reasoning', text: 'Let me think.', signature: 'sig-abc' },
  invalidBodies: [
    { model: 'm' },
    { model: 'm', max_tokens: 10, messages: [{ role: 'system', content: 'x' }] },
    { model: 'm', max_tokens: 10, messages: [{ role: 'user', content: [{ type: 'video', url: 'x' }] }] },
    { model: 'm', max_tokens: 10, messages: [{ role: 'user', content: [{ type: 'tool_result' }] }] },
    { model: 'm', max_tokens: '10', messages: [] },
    { model: 'm', messages: [], tool_choice: { type: 'sometimes' } },
  ],
});
