// Validates a rendered object the way an API server would, without one: kubernetes-models' validate()
// (types, enums, required fields, formats) plus an unknown-field check that walks the object against
// @kubernetes/client-node's generated attribute type maps (every field the API knows). Custom resources
// are checked against the hand-written shapes in crd-shapes.ts.
import * as k8s from '@kubernetes/client-node';
import { StatefulSet } from 'kubernetes-models/apps/v1';
import { CronJob } from 'kubernetes-models/batch/v1';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { Role, RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1';
import { ConfigMap, Namespace, Pod, Secret, Service, ServiceAccount } from 'kubernetes-models/v1';
import { CRD_SPECS, type Shape } from './crd-shapes.js';
import type { K8sObject } from './render.js';

interface Validatable {
  validate(): void;
}
type ModelConstructor = new (data: never) => Validatable;

/** Every built-in kind the chart or k8s/ renders; anything else is reported, never waved through. */
const MODELS: ReadonlyMap<string, ModelConstructor> = new Map<string, ModelConstructor>([
  ['apps/v1/StatefulSet', StatefulSet],
  ['batch/v1/CronJob', CronJob],
  ['networking.k8s.io/v1/NetworkPolicy', NetworkPolicy],
  ['policy/v1/PodDisruptionBudget', PodDisruptionBudget],
  ['rbac.authorization.k8s.io/v1/Role', Role],
  ['rbac.authorization.k8s.io/v1/RoleBinding', RoleBinding],
  ['v1/ConfigMap', ConfigMap],
  ['v1/Namespace', Namespace],
  ['v1/Pod', Pod],
  ['v1/Secret', Secret],
  ['v1/Service', Service],
  ['v1/ServiceAccount', ServiceAccount],
]);

/** Every problem found in one object; empty when it is valid. */
export function validateObject(object: K8sObject): string[] {
  const id = `${object.apiVersion}/${object.kind}`;
  const where = `${object.kind}/${object.metadata.name}`;
  const problems: string[] = [];
  const Model = MODELS.get(id);
  const crdSpec = CRD_SPECS.get(id);
  if (Model !== undefined) {
    try {
      new Model(object as never).validate();
    } catch (error) {
      problems.push(`${where}: ${error instanceof Error ? error.message : String(error)}`);
    }
    // Kinds in these groups are all named V1<Kind> in client-node.
    walkModel(object, `V1${object.kind}`, where, problems);
  } else if (crdSpec !== undefined) {
    const { apiVersion, kind, metadata, spec, ...rest } = object;
    void apiVersion;
    void kind;
    for (const field of Object.keys(rest)) problems.push(`${where}: unknown field ${field}`);
    walkModel(metadata, 'V1ObjectMeta', `${where}.metadata`, problems);
    walkShape(spec, crdSpec, `${where}.spec`, problems);
  } else {
    problems.push(`${where}: no schema for ${id} here; add it to validate.ts`);
  }
  return problems;
}

interface AttributeInfo {
  name: string;
  baseName: string;
  type: string;
}

function attributeTypeMap(model: string): AttributeInfo[] | undefined {
  const candidate: unknown = (k8s as Record<string, unknown>)[model];
  if (typeof candidate !== 'function') return undefined;
  const getter: unknown = (candidate as { getAttributeTypeMap?: unknown }).getAttributeTypeMap;
  if (typeof getter !== 'function') return undefined;
  return (getter as () => AttributeInfo[]).call(candidate);
}

const ARRAY = /^Array<(.+)>$/;
const MAP = /^\{ \[key: string\]: (.+); \}$/;
/** Resource quantities (requests, limits) are int-or-string in the API though typed string in client-node. */
const QUANTITY_FIELDS = new Set(['requests', 'limits']);

function walkModel(value: unknown, type: string, path: string, problems: string[], field = ''): void {
  if (value === null || value === undefined) return;
  const array = ARRAY.exec(type);
  const map = MAP.exec(type);
  if (array !== null) {
    if (!Array.isArray(value)) problems.push(`${path}: expected a list (${type})`);
    else value.forEach((item, i) => walkModel(item, array[1]!, `${path}[${i}]`, problems));
    return;
  }
  if (map !== null) {
    if (!isPlainObject(value)) {
      problems.push(`${path}: expected a map (${type})`);
      return;
    }
    for (const [key, item] of Object.entries(value)) {
      if (QUANTITY_FIELDS.has(field) && typeof item === 'number') continue;
      walkModel(item, map[1]!, `${path}.${key}`, problems);
    }
    return;
  }
  switch (type) {
    case 'string':
    case 'Date':
      if (typeof value !== 'string') problems.push(`${path}: expected a string, got ${JSON.stringify(value)}`);
      return;
    case 'number':
      if (typeof value !== 'number') problems.push(`${path}: expected a number, got ${JSON.stringify(value)}`);
      return;
    case 'boolean':
      if (typeof value !== 'boolean') problems.push(`${path}: expected a boolean, got ${JSON.stringify(value)}`);
      return;
    case 'IntOrString':
      if (typeof value !== 'string' && typeof value !== 'number') problems.push(`${path}: expected int or string`);
      return;
    case 'any':
    case 'object':
      return;
  }
  const attributes = attributeTypeMap(type);
  if (attributes === undefined) {
    problems.push(`${path}: no client-node model ${type}`);
    return;
  }
  if (!isPlainObject(value)) {
    problems.push(`${path}: expected an object (${type})`);
    return;
  }
  const byName = new Map(attributes.map((a) => [a.baseName, a]));
  for (const [key, item] of Object.entries(value)) {
    const attribute = byName.get(key);
    if (attribute === undefined) problems.push(`${path}: unknown field ${key} (not in ${type})`);
    else walkModel(item, attribute.type, `${path}.${key}`, problems, key);
  }
}

function walkShape(value: unknown, shape: Shape, path: string, problems: string[]): void {
  switch (shape.type) {
    case 'k8s':
      walkModel(value, shape.model, path, problems);
      return;
    case 'string':
      if (typeof value !== 'string') problems.push(`${path}: expected a string, got ${JSON.stringify(value)}`);
      else if (shape.enum !== undefined && !shape.enum.includes(value)) problems.push(`${path}: ${value} not in ${shape.enum.join('|')}`);
      else if (shape.pattern !== undefined && !shape.pattern.test(value)) problems.push(`${path}: ${value} does not match ${shape.pattern}`);
      return;
    case 'integer':
      if (!Number.isInteger(value)) problems.push(`${path}: expected an integer, got ${JSON.stringify(value)}`);
      return;
    case 'boolean':
      if (typeof value !== 'boolean') problems.push(`${path}: expected a boolean, got ${JSON.stringify(value)}`);
      return;
    case 'array':
      if (!Array.isArray(value)) problems.push(`${path}: expected a list`);
      else value.forEach((item, i) => walkShape(item, shape.items, `${path}[${i}]`, problems));
      return;
    case 'map':
      if (!isPlainObject(value)) problems.push(`${path}: expected a map`);
      else for (const [key, item] of Object.entries(value)) walkShape(item, shape.values, `${path}.${key}`, problems);
      return;
    case 'object': {
      if (!isPlainObject(value)) {
        problems.push(`${path}: expected an object`);
        return;
      }
      for (const name of shape.required ?? []) {
        if (!(name in value)) problems.push(`${path}: missing required field ${name}`);
      }
      for (const [key, item] of Object.entries(value)) {
        const field = shape.fields[key];
        if (field === undefined) problems.push(`${path}: unknown field ${key}`);
        else walkShape(item, field, `${path}.${key}`, problems);
      }
    }
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
