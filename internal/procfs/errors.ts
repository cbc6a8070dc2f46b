/** Thrown by parsers for input they cannot make sense of; carries the source for context. */
export class ParseError extends Error {
  constructor(readonly source: string, message: string) {
    super(`${source}: ${message}`);
    this.name = 'ParseError';
  }
}
