/** Secrets: the chart renders none, and secret-looking settings come only from secretKeyRef. */
import { allContainers, podOwners } from './pods.ts';
import { type Rule, ref, type Violation } from './rule.ts';

const SECRET_NAME = /(SECRET|PASSWORD|TOKEN|API_KEY|ENCRYPTION_KEY|DATABASE_URL|PRIVATE_KEY)/i;

export const SECRET_RULES: Rule[] = [
  {
    id: 'secrets-by-reference',
    description:
      'no Secret objects; secret-looking variables come from secretKeyRef, never values or ConfigMaps',
    check: (objects) => {
      const violations: Violation[] = objects
        .filter((o) => o.kind === 'Secret')
        .map((o) => ({ rule: 'secrets-by-reference', object: ref(o), message: 'chart renders a Secret' }));
      for (const cm of objects.filter((o) => o.kind === 'ConfigMap')) {
        for (const key of Object.keys((cm.data as Record<string, string> | undefined) ?? {})) {
          if (SECRET_NAME.test(key) && key !== 'ENCRYPTION_KEY_ID') {
            violations.push({
              rule: 'secrets-by-reference',
              object: ref(cm),
              message: `ConfigMap key ${key}`,
            });
          }
        }
      }
      for (const owner of podOwners(objects)) {
        for (const c of allContainers(owner.spec)) {
          for (const env of c.env ?? []) {
            if (
              SECRET_NAME.test(env.name) &&
              env.name !== 'ENCRYPTION_KEY_ID' &&
              !env.valueFrom?.secretKeyRef
            ) {
              violations.push({
                rule: 'secrets-by-reference',
                object: owner.ref,
                message: `env ${env.name} not from a Secret`,
              });
            }
          }
        }
      }
      return violations;
    },
  },
];
