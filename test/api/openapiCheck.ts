/**
 * A small checker of JSON values against the OpenAPI 3.0 document the app generates: the subset of JSON Schema
 * zod-to-openapi emits ($ref, type, enum, properties, required, items, oneOf/anyOf/allOf, formats and limits).
 * Stricter than the document in one way: an object may not carry properties its schema does not list, so a
 * response that leaks an undocumented field fails.
 */

type Schema = Record<string, unknown>;

interface OpenApiDoc {
  paths: Record<
    string,
    Record<string, { responses: Record<string, { content?: Record<string, { schema: Schema }> }> }>
  >;
  components?: { schemas?: Record<string, Schema> };
}

export function responseSchemaOf(
  doc: OpenApiDoc,
  path: string,
  method: string,
  status: number,
): { documented: boolean; schema?: Schema; csv?: boolean } {
  const operation = doc.paths[path]?.[method.toLowerCase()];
  const response = operation?.responses[String(status)];
  if (!response) return { documented: false };
  return {
    documented: true,
    schema: response.content?.['application/json']?.schema,
    csv: response.content?.['text/csv'] !== undefined,
  };
}

/** Problems of `value` against `schema` (empty when it validates), each with the JSON path. */
export function validate(doc: OpenApiDoc, schema: Schema, value: unknown, at = '$'): string[] {
  const ref = schema.$ref;
  if (typeof ref === 'string') {
    const name = ref.replace('#/components/schemas/', '');
    const target = doc.components?.schemas?.[name];
    if (!target) return [`${at}: unknown $ref ${ref}`];
    return validate(doc, target, value, at);
  }
  if (value === null) return schema.nullable ? [] : [`${at}: null is not allowed`];

  const problems: string[] = [];
  if (Array.isArray(schema.allOf))
    for (const part of schema.allOf as Schema[]) problems.push(...validate(doc, part, value, at));
  if (Array.isArray(schema.oneOf)) {
    const matches = (schema.oneOf as Schema[]).filter((part) => validate(doc, part, value, at).length === 0).length;
    if (matches !== 1) problems.push(`${at}: matches ${matches} of the oneOf schemas, not exactly one`);
  }
  if (
    Array.isArray(schema.anyOf) &&
    !(schema.anyOf as Schema[]).some((part) => validate(doc, part, value, at).length === 0)
  ) {
    problems.push(`${at}: matches none of the anyOf schemas`);
  }
  if (Array.isArray(schema.enum) && !schema.enum.some((option) => option === value)) {
    problems.push(`${at}: ${JSON.stringify(value)} is not one of ${JSON.stringify(schema.enum)}`);
  }

  switch (schema.type) {
    case 'object': {
      if (typeof value !== 'object' || Array.isArray(value)) return [...problems, `${at}: expected an object`];
      const record = value as Record<string, unknown>;
      const properties = (schema.properties ?? {}) as Record<string, Schema>;
      for (const key of (schema.required ?? []) as string[])
        if (!(key in record)) problems.push(`${at}.${key}: is required`);
      for (const [key, item] of Object.entries(record)) {
        const propertySchema = properties[key];
        if (propertySchema) problems.push(...validate(doc, propertySchema, item, `${at}.${key}`));
        else if (typeof schema.additionalProperties === 'object')
          problems.push(...validate(doc, schema.additionalProperties as Schema, item, `${at}.${key}`));
        else if (schema.additionalProperties !== true) problems.push(`${at}.${key}: is not in the schema`);
      }
      break;
    }
    case 'array':
      if (!Array.isArray(value)) return [...problems, `${at}: expected an array`];
      value.forEach((item, index) =>
        problems.push(...validate(doc, (schema.items ?? {}) as Schema, item, `${at}[${index}]`)),
      );
      break;
    case 'string':
      if (typeof value !== 'string') return [...problems, `${at}: expected a string`];
      if (typeof schema.minLength === 'number' && value.length < schema.minLength)
        problems.push(`${at}: shorter than ${schema.minLength}`);
      if (typeof schema.maxLength === 'number' && value.length > schema.maxLength)
        problems.push(`${at}: longer than ${schema.maxLength}`);
      if (typeof schema.pattern === 'string' && !new RegExp(schema.pattern, 'u').test(value))
        problems.push(`${at}: does not match ${schema.pattern}`);
      if (schema.format === 'date-time' && Number.isNaN(Date.parse(value))) problems.push(`${at}: not a date-time`);
      break;
    case 'integer':
    case 'number':
      if (typeof value !== 'number' || (schema.type === 'integer' && !Number.isInteger(value)))
        return [...problems, `${at}: expected ${String(schema.type)}`];
      if (typeof schema.minimum === 'number' && value < schema.minimum) problems.push(`${at}: below ${schema.minimum}`);
      if (typeof schema.maximum === 'number' && value > schema.maximum) problems.push(`${at}: above ${schema.maximum}`);
      break;
    case 'boolean':
      if (typeof value !== 'boolean') problems.push(`${at}: expected a boolean`);
      break;
    default:
      break;
  }
  return problems;
}
