import Ajv2020, { type ErrorObject, type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';

/**
 * Checks JSON values against the OpenAPI 3.1 document the app generates, with Ajv's JSON Schema 2020-12
 * validator (OpenAPI 3.1's schema dialect) and its formats. Stricter than the document in one way: an object
 * schema that lists its properties and says nothing about others is closed here, so a response that leaks an
 * undocumented field (a secret, say) fails.
 */

type Schema = Record<string, unknown>;

interface OpenApiDoc {
  paths: Record<
    string,
    Record<string, { responses: Record<string, { content?: Record<string, { schema: Schema }> }> }>
  >;
  components?: { schemas?: Record<string, Schema> };
}

// The components become one schema of its own, which every response schema refers into.
const COMPONENTS_ID = 'urn:openapi:components';
const COMPONENT_REF = '#/components/schemas/';

/** A copy of `schema` with component $refs pointed at COMPONENTS_ID and its listed-property objects closed. */
function prepare(schema: unknown, inAllOf = false): unknown {
  if (Array.isArray(schema)) return schema.map((item) => prepare(item, inAllOf));
  if (typeof schema !== 'object' || schema === null) return schema;
  const copy: Schema = {};
  for (const [key, value] of Object.entries(schema as Schema)) {
    if (key === '$ref' && typeof value === 'string' && value.startsWith(COMPONENT_REF))
      copy.$ref = `${COMPONENTS_ID}#/$defs/${value.slice(COMPONENT_REF.length)}`;
    else if (key === 'properties' || key === 'patternProperties') copy[key] = prepareEach(value as Schema);
    else copy[key] = prepare(value, key === 'allOf');
  }
  // An allOf part sees only its own properties, so closing it would reject its siblings' fields.
  if ('properties' in copy && !('additionalProperties' in copy) && !inAllOf) copy.additionalProperties = false;
  return copy;
}

function prepareEach(schemas: Record<string, unknown>): Schema {
  return Object.fromEntries(Object.entries(schemas).map(([name, schema]) => [name, prepare(schema)]));
}

interface Checker {
  ajv: Ajv2020;
  compiled: WeakMap<Schema, ValidateFunction>;
}

const checkers = new WeakMap<OpenApiDoc, Checker>();

function checkerOf(doc: OpenApiDoc): Checker {
  let checker = checkers.get(doc);
  if (!checker) {
    const ajv = new Ajv2020({ allErrors: true, allowUnionTypes: true });
    addFormats(ajv);
    // OpenAPI's discriminator only names which oneOf branch applies; the oneOf itself does the validating.
    ajv.addKeyword({ keyword: 'discriminator' });
    ajv.addSchema({ $id: COMPONENTS_ID, $defs: prepareEach(doc.components?.schemas ?? {}) });
    checker = { ajv, compiled: new WeakMap() };
    checkers.set(doc, checker);
  }
  return checker;
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

function problemOf(error: ErrorObject): string {
  const at = `$${error.instancePath}`;
  if (error.keyword === 'additionalProperties')
    return `${at}/${String(error.params.additionalProperty)}: is not in the schema`;
  return `${at}: ${error.message ?? error.keyword}`;
}

/** Problems of `value` against `schema`, a schema of `doc` (empty when it validates), each with its JSON pointer. */
export function validate(doc: OpenApiDoc, schema: Schema, value: unknown): string[] {
  const { ajv, compiled } = checkerOf(doc);
  let check = compiled.get(schema);
  if (!check) {
    check = ajv.compile(prepare(schema) as Schema);
    compiled.set(schema, check);
  }
  return check(value) ? [] : (check.errors ?? []).map(problemOf);
}
