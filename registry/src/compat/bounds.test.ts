// Compatibility checks stay finite and small: recursive types end, shared types are compared once, and chains too deep or too costly are refused with 42201.
import { RegistryHttpError } from '../errors.js';
import type { SchemaType } from '../model.js';
import { parseSchema } from '../schema/parse.js';
import { maxComparisonDepth, maxComparisonSteps } from './bounds.js';
import { compatibilityReasons, maxReasonsListed } from './check.js';

const parse = (schemaType: SchemaType, schema: unknown) => parseSchema(schemaType, JSON.stringify(schema), [], () => undefined);
const backward = (schemaType: SchemaType, old: unknown, next: unknown) =>
  compatibilityReasons('BACKWARD', parse(schemaType, next), [{ version: 1, schema: parse(schemaType, old) }]);

/**
 * Named Avro records R0…Rn side by side in one record, each Ri with `width` fields of type R(i-1): the text nests five
 * levels however long the chain, while comparing Rn walks n levels, and width^n paths without sharing.
 */
function avroChain(length: number, width: number, leaf: string, optional = false) {
  const fields: unknown[] = [{ name: 'r0', type: { type: 'record', name: 'R0', fields: [{ name: 'value', type: leaf }] } }];
  for (let i = 1; i <= length; i++) {
    const previous = optional ? ['null', `R${i - 1}`] : `R${i - 1}`;
    fields.push({
      name: `r${i}`,
      type: { type: 'record', name: `R${i}`, fields: Array.from({ length: width }, (_, k) => ({ name: `f${k}`, type: previous })) },
    });
  }
  return { type: 'record', name: 'Top', fields };
}

/** The same as JSON Schema definitions: d(i) has `width` properties that $ref d(i-1); the root is d(length). */
function jsonChain(length: number, width: number, leaf: string) {
  const definitions: Record<string, unknown> = { d0: { type: leaf } };
  for (let i = 1; i <= length; i++) {
    definitions[`d${i}`] = {
      type: 'object',
      properties: Object.fromEntries(Array.from({ length: width }, (_, k) => [`p${k}`, { $ref: `#/definitions/d${i - 1}` }])),
    };
  }
  return { definitions, $ref: `#/definitions/d${length}` };
}

function refusal(compare: () => unknown): RegistryHttpError {
  try {
    compare();
  } catch (error) {
    if (error instanceof RegistryHttpError) return error;
    throw error;
  }
  throw new Error('the comparison was not refused');
}

describe('JSON Schema compatibility bounds', () => {
  const tree = (valueType: string) => ({ type: 'object', properties: { value: { type: valueType }, left: { $ref: '#' }, right: { $ref: '#' } } });

  it('compares a recursive schema whose two branches $ref the root once per pair of subschemas', () => {
    expect(backward('JSON', tree('string'), tree('string'))).toEqual([]);
    expect(backward('JSON', tree('integer'), tree('string'))).toEqual(expect.arrayContaining([expect.stringContaining("'TYPE_CHANGED'")]));
  });

  it('finds a change 40 $refs down a chain of definitions', () => {
    expect(backward('JSON', jsonChain(40, 1, 'string'), jsonChain(40, 1, 'string'))).toEqual([]);
    expect(backward('JSON', jsonChain(40, 1, 'string'), jsonChain(40, 1, 'integer'))).toEqual(
      expect.arrayContaining([expect.stringContaining("'TYPE_CHANGED'")]),
    );
  });

  it('compares a definition shared by many properties once when it is compatible', () => {
    expect(backward('JSON', jsonChain(40, 2, 'string'), jsonChain(40, 2, 'string'))).toEqual([]);
  });

  it(`refuses with 42201 a comparison that would take more than ${maxComparisonSteps} steps`, () => {
    const refused = refusal(() => backward('JSON', jsonChain(20, 2, 'string'), jsonChain(20, 2, 'integer')));
    expect(refused.toBody()).toEqual({
      error_code: 42201,
      message: expect.stringContaining(`checking its compatibility with version 1 takes more than ${maxComparisonSteps} steps`) as string,
    });
  });

  it(`refuses with 42201 a chain of $refs more than ${maxComparisonDepth} deep`, () => {
    const refused = refusal(() => backward('JSON', jsonChain(300, 1, 'string'), jsonChain(300, 1, 'string')));
    expect(refused).toMatchObject({
      status: 422,
      errorCode: 42201,
      message: expect.stringContaining(`goes more than ${maxComparisonDepth} types deep`) as string,
    });
  });
});

describe('Avro compatibility bounds', () => {
  it('compares a named record shared by many fields once when it is compatible, and still names every field a change breaks', () => {
    expect(backward('AVRO', avroChain(40, 2, 'string'), avroChain(40, 2, 'string'))).toEqual([]);
    const found = backward('AVRO', avroChain(3, 2, 'string'), avroChain(3, 2, 'int'));
    expect(found.filter((reason) => reason.includes("'TYPE_MISMATCH'"))).toHaveLength(1 + 2 + 4 + 8);
  });

  it(`lists ${maxReasonsListed} reasons per earlier version and counts the rest`, () => {
    const found = backward('AVRO', avroChain(8, 2, 'string'), avroChain(8, 2, 'int'));
    expect(found.filter((reason) => reason.includes("'TYPE_MISMATCH'"))).toHaveLength(maxReasonsListed);
    expect(found).toContain(
      `{errorType:'MORE_INCOMPATIBILITIES', description:'${2 ** 9 - 1 - maxReasonsListed} more incompatibilities of the same schemas are not listed'}`,
    );
  });

  it(`refuses with 42201 a comparison that would take more than ${maxComparisonSteps} steps`, () => {
    const refused = refusal(() => backward('AVRO', avroChain(17, 2, 'string'), avroChain(17, 2, 'int')));
    expect(refused.toBody()).toEqual({ error_code: 42201, message: expect.stringContaining(`takes more than ${maxComparisonSteps} steps`) as string });
  });

  it(`refuses with 42201 a chain of named records more than ${maxComparisonDepth} types deep, which the text does not show`, () => {
    const refused = refusal(() => backward('AVRO', avroChain(300, 1, 'string', true), avroChain(300, 1, 'int', true)));
    expect(refused.toBody()).toEqual({ error_code: 42201, message: expect.stringContaining(`goes more than ${maxComparisonDepth} types deep`) as string });
  });
});
