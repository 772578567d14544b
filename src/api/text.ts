import { type z } from 'zod';

/**
 * Text a person typed and others will read: names, display names. Two kinds of input are refused with a 400
 * naming the field, before they reach storage or another person's screen:
 * - strings that are not well-formed Unicode (a lone surrogate, e.g. `"\ud800"` in JSON), which storage and
 *   encoders reject or mangle;
 * - bidirectional control characters, which make a name display differently from what it is ("Trojan Source").
 */

/** U+200E/F (marks), U+202A-U+202E (embeddings, overrides), U+2066-U+2069 (isolates). */
const BIDI_CONTROLS = /[\u200e\u200f\u202a-\u202e\u2066-\u2069]/u;

export const NOT_WELL_FORMED = 'must be well-formed Unicode (no lone surrogates)';
export const HAS_BIDI_CONTROL = 'must not contain bidirectional control characters (U+200E/F, U+202A-E, U+2066-9)';

/** In a `u` regex a surrogate matches only when unpaired (a pair is one code point). */
const LONE_SURROGATE = /\p{Cs}/u;

export function isWellFormed(value: string): boolean {
  return !LONE_SURROGATE.test(value);
}

export function hasBidiControl(value: string): boolean {
  return BIDI_CONTROLS.test(value);
}

/** A refinement for any string schema: `displayText(z.string().max(80))`. */
export function displayText<T extends z.ZodType<string>>(schema: T): T {
  return schema
    .refine(isWellFormed, { message: NOT_WELL_FORMED, abort: true })
    .refine((value) => !hasBidiControl(value), HAS_BIDI_CONTROL);
}

/**
 * Every string of a parsed request (any field, secrets included) must be well-formed: the paths of those that
 * are not, for a 400 even where a field has no `displayText`.
 */
export function malformedStrings(value: unknown, path: string[] = []): string[] {
  if (typeof value === 'string') return isWellFormed(value) ? [] : [path.join('.')];
  if (Array.isArray(value)) return value.flatMap((item, index) => malformedStrings(item, [...path, String(index)]));
  if (value && typeof value === 'object') {
    return Object.entries(value).flatMap(([key, item]) => [
      ...(isWellFormed(key) ? [] : [[...path, '(key)'].join('.')]),
      ...malformedStrings(item, [...path, key]),
    ]);
  }
  return [];
}
