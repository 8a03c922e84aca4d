/**
 * The three images' Dockerfiles pass the lint rules, and each rule fires on a deliberately broken Dockerfile.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DOCKERFILE_RULES, lintDockerfile } from './dockerfile-rules.ts';
import { REPO_ROOT } from './helm.ts';

const IMAGES: Array<[string, string]> = [
  ['Dockerfile.agent', 'dist/agent/src/main.js'],
  ['Dockerfile.api', 'dist/control-api/src/main.js'],
  ['Dockerfile.speech-server', 'dist/speech-server/src/main.js'],
];
const read = (name: string): string => readFileSync(join(REPO_ROOT, name), 'utf8');

describe('project Dockerfiles', () => {
  it.each(IMAGES)('%s passes every rule', (name) => {
    expect(lintDockerfile(read(name))).toEqual([]);
  });

  it.each(IMAGES)(
    '%s runs %s under tini as a numeric non-root user, production dependencies only',
    (name, entry) => {
      const text = read(name);
      expect(text).toContain(`ENTRYPOINT ["/usr/bin/tini", "--", "node", "${entry}"]`);
      expect(text).toMatch(/^ARG NODE_IMAGE=node:20\.\d+\.\d+-bookworm-slim$/m);
      expect(text).toContain('RUN npm ci --omit=dev');
      expect(text).toContain('ENV ONNXRUNTIME_NODE_INSTALL_CUDA=skip');
      expect(text).toMatch(/^USER 10001:10001$/m);
      // The final stage takes node_modules from the production-only stage, never from the build stage.
      expect(text).toContain('COPY --from=deps /src/node_modules ./node_modules');
      expect(text).not.toContain('COPY --from=build /src/node_modules');
    },
  );

  it('the agent starts the worker and the speech server carries PocketSphinx and flite', () => {
    expect(read('Dockerfile.agent')).toMatch(/^CMD \["start"\]$/m);
    expect(read('Dockerfile.speech-server')).toContain('pocketsphinx pocketsphinx-en-us flite');
  });

  it('.dockerignore keeps local state, secrets and host node_modules out of the build context', () => {
    const ignored = read('.dockerignore').split('\n');
    for (const entry of ['**/node_modules', 'dist', '.git', '.tools', 'data', '**/.env', '.npmrc']) {
      expect(ignored).toContain(entry);
    }
  });
});

const GOOD = `ARG NODE_IMAGE=node:20.20.2-bookworm-slim
FROM \${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci
FROM \${NODE_IMAGE}
RUN apt-get update && apt-get install -y --no-install-recommends tini && rm -rf /var/lib/apt/lists/*
COPY --from=build /src /app
USER 10001:10001
EXPOSE 8080
HEALTHCHECK CMD ["node", "-e", "process.exit(0)"]
ENTRYPOINT ["/usr/bin/tini", "--", "node", "main.js"]
`;

/** [rule, what is broken, the edit applied to GOOD] */
const BREAKS: Array<[string, string, (text: string) => string]> = [
  ['pinned-base', 'a latest base', (t) => t.replace('node:20.20.2-bookworm-slim', 'node:latest')],
  ['pinned-base', 'an untagged base', (t) => t.replace('node:20.20.2-bookworm-slim', 'node')],
  [
    'pinned-base',
    'a floating major tag',
    (t) => t.replace('node:20.20.2-bookworm-slim', 'node:20-bookworm-slim'),
  ],
  ['non-root-user', 'USER root', (t) => t.replace('USER 10001:10001', 'USER root')],
  ['non-root-user', 'USER 0', (t) => t.replace('USER 10001:10001', 'USER 0:0')],
  ['non-root-user', 'no USER', (t) => t.replace('USER 10001:10001\n', '')],
  ['non-root-user', 'a named user', (t) => t.replace('USER 10001:10001', 'USER node')],
  [
    'copy-not-add',
    'ADD of a URL',
    (t) => t.replace('WORKDIR /src', 'WORKDIR /src\nADD https://example.com/x.tgz /x.tgz'),
  ],
  ['exec-form', 'a shell-form ENTRYPOINT', (t) => t.replace(/^ENTRYPOINT .*$/m, 'ENTRYPOINT node main.js')],
  ['exec-form', 'a shell-form CMD', (t) => `${t}CMD node main.js\n`],
  ['healthcheck', 'no HEALTHCHECK', (t) => t.replace(/^HEALTHCHECK .*\n/m, '')],
  ['healthcheck', 'HEALTHCHECK NONE', (t) => t.replace(/^HEALTHCHECK .*$/m, 'HEALTHCHECK NONE')],
  ['no-secrets', 'a token in ENV', (t) => t.replace('EXPOSE 8080', 'ENV NPM_TOKEN=abc\nEXPOSE 8080')],
  ['no-secrets', 'an API key ARG', (t) => t.replace('WORKDIR /src', 'ARG LIVEKIT_API_KEY\nWORKDIR /src')],
  ['apt-hygiene', 'recommends installed', (t) => t.replace(' --no-install-recommends', '')],
  ['apt-hygiene', 'apt lists kept', (t) => t.replace(' && rm -rf /var/lib/apt/lists/*', '')],
  ['npm-ci', 'npm install', (t) => t.replace('RUN npm ci', 'RUN npm install')],
  ['no-maintainer', 'MAINTAINER', (t) => t.replace('WORKDIR /src', 'MAINTAINER someone\nWORKDIR /src')],
  ['valid-expose', 'a bad port', (t) => t.replace('EXPOSE 8080', 'EXPOSE 99999')],
  ['syntax', 'an unknown instruction', (t) => t.replace('WORKDIR /src', 'WORKDIRR /src')],
];

describe('each Dockerfile rule fires on a deliberately broken Dockerfile', () => {
  it('the reference Dockerfile is clean', () => {
    expect(lintDockerfile(GOOD)).toEqual([]);
  });

  it('every rule has a break case', () => {
    const covered = new Set(BREAKS.map(([rule]) => rule));
    expect(DOCKERFILE_RULES.filter((r) => !covered.has(r))).toEqual([]);
  });

  it.each(BREAKS)('%s fires on %s', (rule, _what, edit) => {
    const broken = edit(GOOD);
    expect(broken).not.toBe(GOOD);
    const rules = lintDockerfile(broken).map((f) => f.rule);
    expect(rules).toContain(rule);
  });
});
