// Constant-time string comparison for secrets. timingSafeEqual needs equal lengths and throws otherwise, so both
// sides are hashed first: equal-length digests, and the time taken says nothing about the secret's length.
import { createHash, timingSafeEqual } from 'node:crypto';

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

export function safeEqual(given: string, expected: string): boolean {
  return timingSafeEqual(digest(given), digest(expected));
}
