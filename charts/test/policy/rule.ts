/**
 * What a policy rule is and what it reports, plus the two helpers every rule module uses: an object's
 * `Kind/name` reference and Kubernetes label-selector matching.
 */
import type { V1LabelSelector } from '@kubernetes/client-node';
import type { K8sObject } from '../helm.ts';

export interface Violation {
  rule: string;
  object: string;
  message: string;
}

export interface Rule {
  id: string;
  description: string;
  check(objects: K8sObject[]): Violation[];
}

export const ref = (obj: K8sObject): string => `${obj.kind}/${obj.metadata.name}`;

/** Whether a label selector selects pods with these labels (matchLabels and the In/NotIn/Exists operators). */
export function selects(selector: V1LabelSelector | undefined, labels: Record<string, string>): boolean {
  if (!selector) return false;
  for (const [key, value] of Object.entries(selector.matchLabels ?? {}))
    if (labels[key] !== value) return false;
  for (const expr of selector.matchExpressions ?? []) {
    const value = labels[expr.key];
    const values = expr.values ?? [];
    if (expr.operator === 'In' && (value === undefined || !values.includes(value))) return false;
    if (expr.operator === 'NotIn' && value !== undefined && values.includes(value)) return false;
    if (expr.operator === 'Exists' && value === undefined) return false;
    if (expr.operator === 'DoesNotExist' && value !== undefined) return false;
  }
  return true;
}
