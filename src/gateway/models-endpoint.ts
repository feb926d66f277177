import type { ServerResponse } from 'node:http';
import { sendJson } from './answers.js';
import type { Caller } from './keys.js';
import { GatewayError } from './protocol/errors.js';
import type { Router } from './router.js';

/** `GET /v1/models` and `GET /v1/models/{id}`: the names a key may use, readable by both SDKs. */
export interface ModelsEndpoint {
  list(response: ServerResponse, caller: Caller): void;
  /** Throws a 404 GatewayError for a name the router cannot route or the key may not use. */
  describe(response: ServerResponse, caller: Caller, id: string): void;
}

export function createModelsEndpoint(router: Router, now: () => number): ModelsEndpoint {
  /** One model as both SDKs read it: OpenAI's fields and Anthropic's side by side. */
  const modelCard = (id: string) => {
    const created = Math.floor(now() / 1000);
    return {
      id,
      object: 'model',
      type: 'model',
      created,
      created_at: new Date(created * 1000).toISOString(),
      owned_by: 'warren',
      display_name: id,
    };
  };
  const mayUse = (caller: Caller, name: string) => caller.models === null || caller.models.includes(name);

  return {
    list(response, caller) {
      const names = router.modelNames().filter((name) => mayUse(caller, name));
      sendJson(response, 200, {
        object: 'list',
        data: names.map(modelCard),
        has_more: false,
        first_id: names[0] ?? null,
        last_id: names.at(-1) ?? null,
      });
    },
    // A name is a model here when the router can route it (patterns included) and the key may use it.
    describe(response, caller, id) {
      if (mayUse(caller, id) && router.plan(id).length > 0) {
        sendJson(response, 200, modelCard(id));
        return;
      }
      throw new GatewayError({
        status: 404,
        kind: 'not-found',
        message: `model "${id}" is not configured in this gateway`,
        param: 'model',
      });
    },
  };
}
