// A kind's payload fields, read from its zod schema (the JSON Schema of its input side), so that the board's form
// and the `npm run enqueue` flags follow the schema: a new kind, or a new field, needs no HTML and no flag table.
// Both hand in strings; `payloadFromStrings` turns them into the types the schema expects and leaves every check
// (ranges, formats, required fields) to the schema itself, so the message is the one a worker would give.
import { z } from 'zod';
import { jobKinds, type KindName } from './index.js';

export interface Field {
  name: string;
  type: 'integer' | 'number' | 'boolean' | 'date' | 'string' | 'json';
  required: boolean;
  min?: number;
  max?: number;
  default?: unknown;
  description?: string;
}

interface JsonSchemaProperty {
  type?: string;
  format?: string;
  minimum?: number;
  maximum?: number;
  default?: unknown;
  description?: string;
}

export function fieldsOf(kind: KindName): Field[] {
  const schema = z.toJSONSchema(jobKinds[kind].schema, { io: 'input', unrepresentable: 'any' }) as {
    properties?: Record<string, JsonSchemaProperty>;
    required?: string[];
  };
  return Object.entries(schema.properties ?? {}).map(([name, p]) => ({
    name,
    type: fieldType(p),
    required: schema.required?.includes(name) ?? false,
    ...(p.minimum !== undefined ? { min: p.minimum } : {}),
    ...(p.maximum !== undefined ? { max: p.maximum } : {}),
    ...(p.default !== undefined ? { default: p.default } : {}),
    ...(p.description !== undefined ? { description: p.description } : {}),
  }));
}

function fieldType(p: JsonSchemaProperty): Field['type'] {
  if (p.type === 'integer' || p.type === 'number' || p.type === 'boolean') return p.type;
  if (p.type === 'string') return p.format === 'date' ? 'date' : 'string';
  return 'json';
}

/** `introducedAfter` → `introduced-after`: a field's command-line flag. */
export function flagOf(field: string): string {
  return field.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/**
 * String values (form fields, flags) as the types the schema expects. Empty values are left out (the schema's
 * default applies); a value that does not convert is kept as it is, so the schema names it in its message.
 */
export function payloadFromStrings(
  kind: KindName,
  values: Readonly<Record<string, string | boolean | undefined>>,
): Record<string, unknown> {
  const payload: Record<string, unknown> = {};
  for (const field of fieldsOf(kind)) {
    const raw = values[field.name];
    if (raw === undefined) continue;
    if (field.type === 'boolean') {
      payload[field.name] = raw === true || raw === 'on' || raw === 'true';
      continue;
    }
    if (typeof raw !== 'string' || raw.trim() === '') continue;
    const value = raw.trim();
    if (field.type === 'integer' || field.type === 'number') {
      payload[field.name] = /^-?\d+(\.\d+)?$/.test(value) ? Number(value) : value;
    } else if (field.type === 'json') {
      try {
        payload[field.name] = JSON.parse(value) as unknown;
      } catch {
        payload[field.name] = value;
      }
    } else payload[field.name] = value;
  }
  return payload;
}
