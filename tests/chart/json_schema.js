// A small JSON Schema (draft-07) validator for values.schema.json: chart-render, like `helm
// template` without a cluster, does not apply the schema, so the tests check merged values with
// this instead. It covers the keywords the chart's schema uses: type (one or a list), enum,
// properties, additionalProperties (false or a schema), items, required, minimum, maximum,
// minLength, pattern. Returns a list of "path: problem" strings (empty = valid).
'use strict';

function typeOf(value) {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;  // string, boolean, object
}

function matchesType(value, type) {
  const actual = typeOf(value);
  return actual === type || (type === 'number' && actual === 'integer');
}

function validate(schema, value, where = '') {
  const errors = [];
  const at = where || '(root)';
  if (schema.type !== undefined) {
    const types = Array.isArray(schema.type) ? schema.type : [schema.type];
    if (!types.some((t) => matchesType(value, t))) {
      errors.push(`${at}: expected ${types.join(' or ')}, got ${typeOf(value)} ${JSON.stringify(value)}`);
      return errors;
    }
  }
  if (schema.enum && !schema.enum.some((e) => e === value)) {
    errors.push(`${at}: ${JSON.stringify(value)} is not one of ${JSON.stringify(schema.enum)}`);
  }
  if (typeof value === 'number') {
    if (schema.minimum !== undefined && value < schema.minimum) errors.push(`${at}: ${value} < minimum ${schema.minimum}`);
    if (schema.maximum !== undefined && value > schema.maximum) errors.push(`${at}: ${value} > maximum ${schema.maximum}`);
  }
  if (typeof value === 'string') {
    if (schema.minLength !== undefined && value.length < schema.minLength) errors.push(`${at}: shorter than ${schema.minLength}`);
    if (schema.pattern !== undefined && !new RegExp(schema.pattern, 'u').test(value)) {
      errors.push(`${at}: ${JSON.stringify(value)} does not match ${schema.pattern}`);
    }
  }
  if (Array.isArray(value) && schema.items) {
    value.forEach((item, i) => errors.push(...validate(schema.items, item, `${where}[${i}]`)));
  }
  if (typeOf(value) === 'object') {
    const props = schema.properties || {};
    for (const key of schema.required || []) {
      if (!(key in value)) errors.push(`${at}: missing required ${key}`);
    }
    for (const [key, child] of Object.entries(value)) {
      const path = where ? `${where}.${key}` : key;
      if (props[key]) {
        errors.push(...validate(props[key], child, path));
      } else if (schema.additionalProperties === false) {
        errors.push(`${path}: unknown value (not in values.schema.json)`);
      } else if (typeof schema.additionalProperties === 'object') {
        errors.push(...validate(schema.additionalProperties, child, path));
      }
    }
  }
  return errors;
}

// Every property of every object schema, with its dotted path (for the "documented" check).
function* properties(schema, where = '') {
  for (const [key, child] of Object.entries(schema.properties || {})) {
    const path = where ? `${where}.${key}` : key;
    yield [path, child];
    yield* properties(child, path);
    if (child.items) yield* properties(child.items, `${path}[]`);
  }
}

module.exports = { validate, properties };
