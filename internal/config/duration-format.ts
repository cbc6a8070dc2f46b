import { tryParseDuration } from './duration';
import { DURATION_FORMAT } from './schema';

/** The schema's own formats, for the validator generated from it at build time. */
export const formats = {
  [DURATION_FORMAT]: { type: 'string', validate: (text: string): boolean => (tryParseDuration(text) ?? -1) >= 0 },
} as const;
