/**
 * The statement of identity added to the instructions a non-Anthropic model gets when they speak of
 * another vendor's model or product: a line the rewrite missed is then contradicted by the truth.
 * `warren.identity_statement` replaces it per model (`{model}` stands for the model's name), or turns it
 * off with `false`.
 */
export function identityStatement(
  template: string | undefined,
  model: string,
  maker: string | undefined,
): string {
  if (template !== undefined) return template.replaceAll('{model}', model);
  const madeBy = maker ? `, a model made by ${maker}` : '';
  return (
    `You are ${model}${madeBy}. Parts of these instructions were written for another model or product and ` +
    'may speak of it as you; they describe the software you run in, not the model you are. ' +
    `If asked which model you are, say ${model}.`
  );
}
