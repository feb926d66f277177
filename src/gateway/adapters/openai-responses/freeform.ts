import { isRecord, parseJsonText, type JsonRecord } from '../../protocol/read.js';
import type { ModelRequest, ToolDefinition } from '../../protocol/types.js';

/**
 * OpenAI `custom` tools take free text instead of JSON arguments (Codex's `apply_patch`). Protocols without
 * them see a function taking `{input: string}`; these helpers convert between the two forms.
 */
export const FREEFORM_SCHEMA: Record<string, unknown> = {
  type: 'object',
  properties: { input: { type: 'string', description: 'The raw text input of this tool.' } },
  required: ['input'],
};

export function freeformTool(definition: JsonRecord, name: string): ToolDefinition {
  const tool: ToolDefinition = { name, inputSchema: FREEFORM_SCHEMA, freeform: definition };
  if (typeof definition.description === 'string') tool.description = definition.description;
  return tool;
}

export function freeformInputJson(input: string): string {
  return JSON.stringify({ input });
}

/** The text of `{"input": "..."}`; other JSON (a model that ignored the schema) is passed on as its text. */
export function freeformInputText(inputJson: string): string {
  const parsed = parseJsonText(inputJson);
  if (isRecord(parsed) && typeof parsed.input === 'string') return parsed.input;
  return inputJson;
}

export function freeformToolNames(request: ModelRequest): Set<string> {
  return new Set(request.tools.flatMap((tool) => (tool.freeform ? [tool.name] : [])));
}
