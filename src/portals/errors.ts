/** A request that is well-formed but not acceptable here (HTTP 400), naming the fields at fault. */
export class InvalidInputError extends Error {
  constructor(readonly fields: { path: string; message: string }[]) {
    super(`Invalid input: ${fields.map((field) => `${field.path} ${field.message}`).join('; ')}`);
    this.name = 'InvalidInputError';
  }
}
