// Reads values.yaml's layout (which line each key is on, and whether a comment sits right above it) and
// lists the documented leaves of values.schema.json, for the "every value is documented" test.

export interface KeyLine {
  /** Dotted path of the key, e.g. tls.certManager.enabled. */
  path: string;
  /** The line right above (ignoring nothing) is a `#` comment. */
  commented: boolean;
}

/** Every mapping key in a block-style YAML file, by indentation; list items are values, not keys. */
export function keyLines(yaml: string): Map<string, KeyLine> {
  const keys = new Map<string, KeyLine>();
  const stack: { indent: number; key: string }[] = [];
  const lines = yaml.split('\n');
  lines.forEach((line, i) => {
    const match = /^(\s*)([A-Za-z_][\w.-]*):(\s|$)/.exec(line);
    if (match === null) return;
    const indent = match[1]!.length;
    while (stack.length > 0 && stack.at(-1)!.indent >= indent) stack.pop();
    // A key inside a list item's value ("- name: x") never matches: the regex needs a bare key.
    stack.push({ indent, key: match[2]! });
    const path = stack.map((s) => s.key).join('.');
    const above = i > 0 ? lines[i - 1]!.trim() : '';
    keys.set(path, { path, commented: above.startsWith('#') });
  });
  return keys;
}

export interface SchemaNode {
  type?: string | string[];
  properties?: Record<string, SchemaNode>;
  additionalProperties?: boolean | SchemaNode;
  $ref?: string;
  items?: SchemaNode;
  oneOf?: SchemaNode[];
  definitions?: Record<string, SchemaNode>;
}

/**
 * The paths a user sets: walking the schema's inline `properties`, a property is a leaf when it is a
 * `$ref` to a shared definition (a probe, a resource list), has no properties of its own, or has an
 * empty default in values.yaml (issuerRef: {}); objects with defaults are walked into.
 */
export function documentedLeaves(schema: SchemaNode, values: unknown, prefix = ''): string[] {
  const leaves: string[] = [];
  for (const [key, node] of Object.entries(schema.properties ?? {})) {
    const path = prefix === '' ? key : `${prefix}.${key}`;
    const value = typeof values === 'object' && values !== null ? (values as Record<string, unknown>)[key] : undefined;
    const hasDefaults = typeof value === 'object' && value !== null && !Array.isArray(value) && Object.keys(value).length > 0;
    if (node.$ref === undefined && node.properties !== undefined && hasDefaults) leaves.push(...documentedLeaves(node, value, path));
    else leaves.push(path);
  }
  return leaves;
}

/** Paths of schema objects that accept keys they do not name (neither closed nor a typed map). */
export function openObjects(node: SchemaNode, path = '$'): string[] {
  const open: string[] = [];
  const isObject = node.type === 'object' || node.properties !== undefined;
  if (isObject && node.additionalProperties === undefined) open.push(path);
  if (isObject && node.additionalProperties === true) open.push(path);
  for (const [key, child] of Object.entries(node.properties ?? {})) open.push(...openObjects(child, `${path}.${key}`));
  for (const [key, child] of Object.entries(node.definitions ?? {})) open.push(...openObjects(child, `${path}.definitions.${key}`));
  if (typeof node.additionalProperties === 'object') open.push(...openObjects(node.additionalProperties, `${path}.*`));
  if (node.items !== undefined) open.push(...openObjects(node.items, `${path}[]`));
  for (const [i, child] of (node.oneOf ?? []).entries()) open.push(...openObjects(child, `${path}.oneOf[${i}]`));
  return open;
}
