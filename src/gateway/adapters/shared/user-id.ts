import { createHash } from 'node:crypto';

/**
 * End-user ids have length limits (OpenAI's `user` 64 characters, Anthropic's `metadata.user_id` 256), and
 * Claude Code's ids run to ~150. A longer id is replaced by its sha256 in hex: still stable per user, so
 * the provider's abuse tracking and caching keep working, instead of a 400 on every request.
 */
export function boundedUserId(userId: string, maxLength: number): string {
  if (userId.length <= maxLength) return userId;
  return createHash('sha256').update(userId).digest('hex').slice(0, maxLength);
}
