/**
 * Validation of rendered objects without an API server:
 * 1. kubernetes-models (and the Prometheus operator and KEDA model packages) check types, required fields and
 *    formats such as quantities, but ignore unknown fields;
 * 2. a strict walk over the attribute type maps of @kubernetes/client-node (OpenAPI of Kubernetes 1.34) reports
 *    every unknown field, i.e. misspellings that Kubernetes would silently drop, and built-in APIs it no longer
 *    serves.
 */
import * as k8s from '@kubernetes/client-node';
import * as kedaV1alpha1 from '@kubernetes-models/keda/keda.sh/v1alpha1';
import * as monitoringV1 from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';
import * as appsV1 from 'kubernetes-models/apps/v1';
import * as autoscalingV2 from 'kubernetes-models/autoscaling/v2';
import * as networkingV1 from 'kubernetes-models/networking.k8s.io/v1';
import * as policyV1 from 'kubernetes-models/policy/v1';
import * as coreV1 from 'kubernetes-models/v1';
import type { K8sObject } from './helm.ts';

type Validatable = new (data: unknown) => { validate(): void };

const MODELS: Record<string, Record<string, unknown>> = {
  v1: coreV1,
  'apps/v1': appsV1,
  'autoscaling/v2': autoscalingV2,
  'policy/v1': policyV1,
  'networking.k8s.io/v1': networkingV1,
  'monitoring.coreos.com/v1': monitoringV1,
  'keda.sh/v1alpha1': kedaV1alpha1,
};

/** Errors from the kubernetes-models schema of the object's apiVersion/kind. */
export function modelErrors(obj: K8sObject): string[] {
  const group = MODELS[obj.apiVersion];
  if (!group) return [`${obj.apiVersion} has no model here; add it to MODELS`];
  const Model = group[obj.kind] as Validatable | undefined;
  if (typeof Model !== 'function') return [`${obj.apiVersion} ${obj.kind} has no model`];
  try {
    new Model(obj).validate();
    return [];
  } catch (err) {
    return [`${obj.kind}/${obj.metadata?.name}: ${(err as Error).message}`];
  }
}

interface AttributeType {
  name: string;
  baseName: string;
  type: string;
}
interface ModelClass {
  getAttributeTypeMap(): AttributeType[];
}

/** API groups built into Kubernetes; anything else is a CRD and gets model validation only. */
const BUILTIN_GROUPS = new Set([
  '',
  'apps',
  'autoscaling',
  'batch',
  'policy',
  'networking.k8s.io',
  'rbac.authorization.k8s.io',
  'storage.k8s.io',
  'scheduling.k8s.io',
  'node.k8s.io',
  'discovery.k8s.io',
  'coordination.k8s.io',
]);

const clientModels = k8s as unknown as Record<string, unknown>;

function modelClass(typeName: string): ModelClass | undefined {
  const candidate = clientModels[typeName] as Partial<ModelClass> | undefined;
  return typeof candidate?.getAttributeTypeMap === 'function' ? (candidate as ModelClass) : undefined;
}

function walk(value: unknown, type: string, path: string, errors: string[]): void {
  if (value === null || value === undefined) return;
  const array = /^Array<(.+)>$/.exec(type);
  if (array?.[1]) {
    if (!Array.isArray(value)) {
      errors.push(`${path}: expected a list`);
      return;
    }
    for (const [i, item] of value.entries()) walk(item, array[1], `${path}[${i}]`, errors);
    return;
  }
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (map?.[1]) {
    if (typeof value !== 'object' || Array.isArray(value)) {
      errors.push(`${path}: expected a map`);
      return;
    }
    for (const [key, item] of Object.entries(value)) walk(item, map[1], `${path}.${key}`, errors);
    return;
  }
  const cls = modelClass(type);
  if (!cls) return; // string, number, boolean, Date, IntOrString, object, any
  if (typeof value !== 'object' || Array.isArray(value)) {
    errors.push(`${path}: expected an object (${type})`);
    return;
  }
  const fields = new Map(cls.getAttributeTypeMap().map((attr) => [attr.baseName, attr]));
  for (const [key, item] of Object.entries(value)) {
    const attr = fields.get(key);
    if (!attr) errors.push(`${path}.${key}: unknown field (${type})`);
    else walk(item, attr.type, `${path}.${key}`, errors);
  }
}

/** Unknown fields in a built-in object, per the Kubernetes 1.34 OpenAPI types. CRDs return no errors. */
export function strictErrors(obj: K8sObject): string[] {
  const slash = obj.apiVersion.indexOf('/');
  const group = slash < 0 ? '' : obj.apiVersion.slice(0, slash);
  const version = slash < 0 ? obj.apiVersion : obj.apiVersion.slice(slash + 1);
  if (!BUILTIN_GROUPS.has(group)) return [];
  const typeName = `${version.charAt(0).toUpperCase()}${version.slice(1)}${obj.kind}`;
  if (!modelClass(typeName)) return [`${obj.apiVersion} ${obj.kind} is not served by Kubernetes 1.34`];
  const errors: string[] = [];
  walk(obj, typeName, `${obj.kind}/${obj.metadata?.name}`, errors);
  return errors;
}

/** Both checks for a list of objects. */
export function validateAll(objects: K8sObject[]): string[] {
  return objects.flatMap((obj) => [...modelErrors(obj), ...strictErrors(obj)]);
}
