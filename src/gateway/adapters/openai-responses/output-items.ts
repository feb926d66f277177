import { generateId } from '../../protocol/ids.js';
import type { JsonRecord } from '../../protocol/read.js';
import type { ContentPart, EncodeContext, FinishReason, ToolChoice, Usage } from '../../protocol/types.js';
import { freeformInputText, freeformToolNames } from './freeform.js';
import { responseStatus, responsesUsage } from './usage.js';

/** Neutral assistant content → Responses `output` items (consecutive texts share one message item). */
export function outputItemsFromParts(parts: ContentPart[], freeformNames: Set<string>): JsonRecord[] {
  const items: JsonRecord[] = [];
  let message: JsonRecord[] | undefined;
  for (const part of parts) {
    if (part.type === 'text') {
      if (message === undefined) {
        message = [];
        items.push(messageItem(generateId('msg_'), message, 'completed'));
      }
      message.push(outputText(part.text));
      continue;
    }
    message = undefined;
    if (part.type === 'reasoning')
      items.push(reasoningItem(part.itemId ?? generateId('rs_'), part.text, part.encryptedContent));
    else if (part.type === 'tool-call') {
      items.push(
        freeformNames.has(part.name)
          ? customToolCallItem(
              generateId('ctc_'),
              part.id,
              part.name,
              freeformInputText(part.inputJson),
              'completed',
            )
          : functionCallItem(generateId('fc_'), part.id, part.name, part.inputJson || '{}', 'completed'),
      );
    }
  }
  return items;
}

export function outputText(text: string): JsonRecord {
  return { type: 'output_text', text, annotations: [], logprobs: [] };
}

export function messageItem(id: string, content: JsonRecord[], status: string): JsonRecord {
  return { id, type: 'message', status, role: 'assistant', content };
}

export function reasoningItem(id: string, text: string, encryptedContent: string | undefined): JsonRecord {
  const item: JsonRecord = {
    id,
    type: 'reasoning',
    summary: text === '' ? [] : [{ type: 'summary_text', text }],
  };
  if (encryptedContent !== undefined) item.encrypted_content = encryptedContent;
  return item;
}

export function functionCallItem(
  id: string,
  callId: string,
  name: string,
  args: string,
  status: string,
): JsonRecord {
  return { id, type: 'function_call', status, arguments: args, call_id: callId, name };
}

export function customToolCallItem(
  id: string,
  callId: string,
  name: string,
  input: string,
  status: string,
): JsonRecord {
  return { id, type: 'custom_tool_call', status, call_id: callId, name, input };
}

export interface ResponseObjectState {
  id: string;
  createdAt: number;
  status: 'in_progress' | 'completed' | 'incomplete' | 'failed';
  output: JsonRecord[];
  usage: Usage | null;
  incompleteDetails?: JsonRecord | null;
  error?: { code: string; message: string } | null;
}

/** The `response` object, echoing the caller's options as OpenAI does. */
export function responseObject(context: EncodeContext, state: ResponseObjectState): JsonRecord {
  const request = context.request;
  return {
    id: state.id,
    object: 'response',
    created_at: state.createdAt,
    status: state.status,
    error: state.error ?? null,
    incomplete_details: state.incompleteDetails ?? null,
    instructions: request.system.length > 0 ? request.system.map((part) => part.text).join('\n\n') : null,
    max_output_tokens: request.maxTokens ?? null,
    model: request.model,
    output: state.output,
    parallel_tool_calls: request.parallelToolCalls ?? true,
    previous_response_id: null,
    reasoning: { effort: request.reasoning?.effort ?? null, summary: null },
    store: false,
    temperature: request.temperature ?? 1,
    text: { format: { type: 'text' } },
    tool_choice: responsesToolChoice(request.toolChoice, undefined, freeformToolNames(request)) ?? 'auto',
    // Tools are echoed as the caller declared them: provider tools and custom tools verbatim.
    tools: request.tools.map(
      (tool) =>
        tool.providerDefined?.definition ??
        tool.freeform ?? {
          type: 'function',
          name: tool.name,
          description: tool.description ?? null,
          parameters: tool.inputSchema,
          strict: false,
        },
    ),
    top_p: request.topP ?? 1,
    truncation: 'disabled',
    usage: state.usage === null ? null : responsesUsage(state.usage),
    user: request.metadata?.userId ?? null,
    metadata: {},
  };
}

export function finishedResponseState(
  reason: FinishReason,
): Pick<ResponseObjectState, 'status' | 'incompleteDetails'> {
  const { status, incompleteDetails } = responseStatus(reason);
  return { status, incompleteDetails };
}

export function responsesToolChoice(
  choice: ToolChoice | undefined,
  rename: (name: string) => string = (name) => name,
  freeformNames: Set<string> = new Set(),
): unknown {
  switch (choice?.type) {
    case undefined:
      return undefined;
    case 'auto':
    case 'none':
    case 'required':
      return choice.type;
    case 'tool':
      return { type: freeformNames.has(choice.name) ? 'custom' : 'function', name: rename(choice.name) };
  }
}
