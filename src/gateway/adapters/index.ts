import type { ApiProtocol, ProtocolAdapter } from '../protocol/types.js';
import { anthropicMessagesAdapter } from './anthropic/index.js';
import { openAiChatAdapter } from './openai-chat/index.js';
import { openAiResponsesAdapter } from './openai-responses/index.js';

/** The adapters are stateless objects of pure functions; streams get their own encoder/decoder objects. */
export function getAdapter(protocol: ApiProtocol): ProtocolAdapter {
  switch (protocol) {
    case 'anthropic-messages':
      return anthropicMessagesAdapter;
    case 'openai-chat':
      return openAiChatAdapter;
    case 'openai-responses':
      return openAiResponsesAdapter;
  }
}

export const ALL_PROTOCOLS: readonly ApiProtocol[] = [
  'anthropic-messages',
  'openai-chat',
  'openai-responses',
];

export { anthropicMessagesAdapter, openAiChatAdapter, openAiResponsesAdapter };
