/**
 * JSON Schema → the TypeScript-like type text the official renderer writes into a tools section
 * (`json_schema_to_typescript` in openai/harmony `src/encoding.rs`; rules in shared/spec/harmony.md §2.6).
 * Quirks are reproduced on purpose: descriptions are inserted raw, strings are never escaped, `anyOf`/`$ref`/
 * `const` render as `any`, and string enum defaults are unquoted.
 */
type JsonObject = { [key: string]: unknown };

const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);
const isEnum = (s: JsonObject): boolean => Array.isArray(s.enum) && s.enum.length > 0;
const has = (o: JsonObject, k: string): boolean => Object.hasOwn(o, k);

/** Rust `str::lines()`: split on `\n`, drop one trailing `\r` per line, no final empty line. */
export function rustLines(s: string): string[] {
  if (s === '') return [];
  const lines = s.split('\n');
  if (s.endsWith('\n')) lines.pop();
  return lines.map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
}

/** `// default: ...` text for a property (string enum defaults unquoted). */
function propertyDefault(schema: JsonObject): string {
  const d = schema.default;
  if (typeof d === 'string') return isEnum(schema) ? `default: ${d}` : `default: "${d}"`;
  return `default: ${JSON.stringify(d)}`;
}

/** Top-level `oneOf` variant default (string enum defaults are JSON-quoted here, unlike properties). */
function variantDefault(schema: JsonObject): string {
  const d = schema.default;
  if (typeof d === 'string' && !isEnum(schema)) return `default: "${d}"`;
  return `default: ${JSON.stringify(d)}`;
}

function withNullable(variant: unknown, t: string): string {
  return isObject(variant) && variant.nullable === true && !t.includes('null') ? `${t} | null` : t;
}

/** Renders `schema` at nesting `indent` (top level: `''`). */
export function jsonSchemaToTypeScript(schema: unknown, indent = ''): string {
  if (!isObject(schema)) return 'any';

  if (Array.isArray(schema.oneOf)) {
    let out = '';
    for (const variant of schema.oneOf) {
      out += `\n${indent} | `;
      out += withNullable(variant, jsonSchemaToTypeScript(variant, `${indent}   `));
      const c: string[] = [];
      if (isObject(variant)) {
        if (typeof variant.description === 'string') c.push(variant.description);
        if (has(variant, 'default')) c.push(variantDefault(variant));
      }
      if (c.length > 0) out += ` // ${c.join(' ')}`;
    }
    return out;
  }

  const type = schema.type;
  if (Array.isArray(type)) {
    const names = type
      .filter((t): t is string => typeof t === 'string')
      .map((t) => (t === 'integer' ? 'number' : t));
    if (names.length > 0) return names.join(' | ');
    return 'any';
  }
  if (typeof type !== 'string') return 'any';

  switch (type) {
    case 'string': {
      const strings = Array.isArray(schema.enum)
        ? schema.enum.filter((v): v is string => typeof v === 'string')
        : [];
      return strings.length > 0 ? strings.map((v) => `"${v}"`).join(' | ') : 'string';
    }
    case 'number':
    case 'integer':
      return 'number';
    case 'boolean':
      return 'boolean';
    case 'array':
      return has(schema, 'items') ? `${jsonSchemaToTypeScript(schema.items, indent)}[]` : 'Array<any>';
    case 'object':
      return objectToTypeScript(schema, indent);
    default:
      return 'any';
  }
}

function objectToTypeScript(schema: JsonObject, indent: string): string {
  let out = '';
  if (typeof schema.description === 'string') out += `${indent}// ${schema.description}\n`;
  out += '{\n';
  const required = new Set(
    Array.isArray(schema.required) ? schema.required.filter((r): r is string => typeof r === 'string') : [],
  );
  const props = isObject(schema.properties) ? schema.properties : {};
  for (const [key, val] of Object.entries(props)) {
    const v: JsonObject = isObject(val) ? val : {};
    const opt = required.has(key) ? '' : '?';
    if (typeof v.title === 'string') out += `${indent}// ${v.title}\n${indent}//\n`;
    if (!has(v, 'oneOf') && typeof v.description === 'string') out += `${indent}// ${v.description}\n`;
    if (Array.isArray(v.examples) && v.examples.length > 0) {
      out += `${indent}// Examples:\n`;
      for (const ex of v.examples) if (typeof ex === 'string') out += `${indent}// - "${ex}"\n`;
    }
    if (Array.isArray(v.oneOf)) {
      const pd = typeof v.description === 'string' ? v.description : undefined;
      const first = v.oneOf[0];
      const skip = pd !== undefined && isObject(first) && first.description === pd;
      let above = false;
      if (pd !== undefined && !skip) {
        out += `${indent}// ${pd}\n`;
        above = true;
      }
      if (has(v, 'default')) out += `${indent}// ${propertyDefault(v)}\n`;
      out += `${indent}${key}${opt}:\n`;
      v.oneOf.forEach((variant, i) => {
        out += `${indent} | `;
        out += withNullable(variant, jsonSchemaToTypeScript(variant, `${indent}   `));
        const c: string[] = [];
        if (isObject(variant)) {
          const d = variant.description;
          if (!(i === 0 && above) && typeof d === 'string' && d !== pd) c.push(d);
          if (has(variant, 'default')) c.push(propertyDefault(variant));
        }
        if (c.length > 0) out += ` // ${c.join(' ')}`;
        out += '\n';
      });
      out += `${indent},\n`;
      continue;
    }
    out += `${indent}${key}${opt}: `;
    out += `${withNullable(v, jsonSchemaToTypeScript(v, `${indent}    `))},`;
    if (has(v, 'default')) out += ` // ${propertyDefault(v)}`;
    out += '\n';
  }
  out += `${indent}}`;
  return out;
}
