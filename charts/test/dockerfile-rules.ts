/**
 * Dockerfile lint rules on dockerfile-ast (hadolint is not installable here). dockerfile-utils adds its own
 * syntax diagnostics. Each rule returns messages; an empty list means the Dockerfile passes.
 */
import { type Arg, DockerfileParser, type Instruction } from 'dockerfile-ast';
import { validate } from 'dockerfile-utils';

export interface DockerfileFinding {
  rule: string;
  line: number;
  message: string;
}

type Dockerfile = ReturnType<typeof DockerfileParser.parse>;

const SECRET_NAME = /(SECRET|PASSWORD|PASSWD|TOKEN|API_KEY|APIKEY|PRIVATE_KEY|CREDENTIALS?|NPM_AUTH)/i;

const lineOf = (i: Instruction): number => i.getRange().start.line + 1;

/** Instructions grouped by build stage (each stage starts at a FROM). */
function stages(df: Dockerfile): Instruction[][] {
  const out: Instruction[][] = [];
  for (const instruction of df.getInstructions()) {
    if (instruction.getKeyword() === 'FROM') out.push([]);
    out[out.length - 1]?.push(instruction);
  }
  return out;
}

/** Default values of the global ARGs (before the first FROM), used to expand `FROM ${NODE_IMAGE}`. */
function globalArgs(df: Dockerfile): Map<string, string> {
  const args = new Map<string, string>();
  for (const arg of df.getInitialARGs() as Arg[]) {
    const property = arg.getProperty();
    if (property) args.set(property.getName(), property.getValue() ?? '');
  }
  return args;
}

function expand(text: string, args: Map<string, string>): string {
  return text.replace(/\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g, (_m, name: string) => args.get(name) ?? '');
}

function pinnedBase(df: Dockerfile): DockerfileFinding[] {
  const args = globalArgs(df);
  const stageNames = new Set<string>();
  const findings: DockerfileFinding[] = [];
  for (const from of df.getFROMs()) {
    const image = expand(from.getImage() ?? '', args);
    const stage = from.getBuildStage();
    if (stageNames.has(image)) {
      if (stage) stageNames.add(stage);
      continue;
    }
    if (stage) stageNames.add(stage);
    if (/@sha256:[a-f0-9]{64}$/.test(image)) continue;
    const name = image.slice(image.lastIndexOf('/') + 1);
    const tag = name.includes(':') ? name.slice(name.indexOf(':') + 1) : '';
    if (!tag || tag === 'latest') {
      findings.push({
        rule: 'pinned-base',
        line: lineOf(from),
        message: `base image ${image || '(empty)'} is not pinned`,
      });
    } else if (!/^\d+\.\d+\.\d+/.test(tag)) {
      findings.push({
        rule: 'pinned-base',
        line: lineOf(from),
        message: `base tag ${tag} is not a full version`,
      });
    }
  }
  return findings;
}

function nonRootUser(df: Dockerfile): DockerfileFinding[] {
  const last = stages(df).at(-1) ?? [];
  const users = last.filter((i) => i.getKeyword() === 'USER');
  const user = users.at(-1);
  if (!user) return [{ rule: 'non-root-user', line: 1, message: 'final stage has no USER' }];
  const value = (user.getArgumentsContent() ?? '').trim();
  const uid = value.split(':')[0] ?? '';
  if (!/^\d+$/.test(uid))
    return [{ rule: 'non-root-user', line: lineOf(user), message: `USER ${value} is not numeric` }];
  if (Number(uid) === 0) return [{ rule: 'non-root-user', line: lineOf(user), message: 'USER is root' }];
  return [];
}

function noAdd(df: Dockerfile): DockerfileFinding[] {
  return df
    .getInstructions()
    .filter((i) => i.getKeyword() === 'ADD')
    .map((i) => ({
      rule: 'copy-not-add',
      line: lineOf(i),
      message: /https?:\/\//.test(i.getArgumentsContent() ?? '') ? 'ADD of a URL' : 'ADD instead of COPY',
    }));
}

function execForm(df: Dockerfile): DockerfileFinding[] {
  return df
    .getInstructions()
    .filter((i) => i.getKeyword() === 'CMD' || i.getKeyword() === 'ENTRYPOINT')
    .filter((i) => !(i.getArgumentsContent() ?? '').trim().startsWith('['))
    .map((i) => ({
      rule: 'exec-form',
      line: lineOf(i),
      message: `${i.getKeyword()} in shell form (signals miss node)`,
    }));
}

function healthcheck(df: Dockerfile): DockerfileFinding[] {
  const last = stages(df).at(-1) ?? [];
  const checks = last.filter((i) => i.getKeyword() === 'HEALTHCHECK');
  const check = checks.at(-1);
  if (!check) return [{ rule: 'healthcheck', line: 1, message: 'final stage has no HEALTHCHECK' }];
  if ((check.getArgumentsContent() ?? '').trim().toUpperCase() === 'NONE') {
    return [{ rule: 'healthcheck', line: lineOf(check), message: 'HEALTHCHECK NONE' }];
  }
  return [];
}

function noSecrets(df: Dockerfile): DockerfileFinding[] {
  const findings: DockerfileFinding[] = [];
  for (const i of df.getInstructions()) {
    const keyword = i.getKeyword();
    if (keyword !== 'ENV' && keyword !== 'ARG') continue;
    const names =
      keyword === 'ARG'
        ? [(i as Arg).getProperty()?.getName() ?? '']
        : (i as unknown as { getProperties(): Array<{ getName(): string }> })
            .getProperties()
            .map((p) => p.getName());
    for (const name of names) {
      if (SECRET_NAME.test(name)) {
        findings.push({
          rule: 'no-secrets',
          line: lineOf(i),
          message: `${keyword} ${name} would be kept in the image`,
        });
      }
    }
  }
  return findings;
}

function aptHygiene(df: Dockerfile): DockerfileFinding[] {
  const findings: DockerfileFinding[] = [];
  for (const i of df.getInstructions().filter((x) => x.getKeyword() === 'RUN')) {
    const cmd = i.getArgumentsContent() ?? '';
    if (!/apt-get\s+install/.test(cmd)) continue;
    if (!/\s-y\b|--yes|--assume-yes/.test(cmd) || !cmd.includes('--no-install-recommends')) {
      findings.push({
        rule: 'apt-hygiene',
        line: lineOf(i),
        message: 'apt-get install without -y --no-install-recommends',
      });
    }
    if (!/rm -rf \/var\/lib\/apt\/lists/.test(cmd)) {
      findings.push({
        rule: 'apt-hygiene',
        line: lineOf(i),
        message: 'apt lists not removed in the same layer',
      });
    }
  }
  return findings;
}

function npmCi(df: Dockerfile): DockerfileFinding[] {
  return df
    .getInstructions()
    .filter((i) => i.getKeyword() === 'RUN' && /\bnpm\s+(install|i)\b/.test(i.getArgumentsContent() ?? ''))
    .map((i) => ({ rule: 'npm-ci', line: lineOf(i), message: 'npm install instead of npm ci' }));
}

function noMaintainer(df: Dockerfile): DockerfileFinding[] {
  return df
    .getInstructions()
    .filter((i) => i.getKeyword() === 'MAINTAINER')
    .map((i) => ({
      rule: 'no-maintainer',
      line: lineOf(i),
      message: 'MAINTAINER is deprecated; use a LABEL',
    }));
}

function validExpose(df: Dockerfile): DockerfileFinding[] {
  return df
    .getInstructions()
    .filter((i) => i.getKeyword() === 'EXPOSE')
    .flatMap((i) =>
      i
        .getArguments()
        .map((a) => a.getValue())
        .filter((v) => {
          const port = Number(v.split('/')[0]);
          return !Number.isInteger(port) || port < 1 || port > 65535;
        })
        .map((v) => ({ rule: 'valid-expose', line: lineOf(i), message: `EXPOSE ${v} is not a port` })),
    );
}

function syntax(content: string): DockerfileFinding[] {
  // Severity 1 is an error in the language-server protocol.
  return validate(content)
    .filter((d) => d.severity === 1)
    .map((d) => ({
      rule: 'syntax',
      line: d.range.start.line + 1,
      message: typeof d.message === 'string' ? d.message : d.message.value,
    }));
}

export const DOCKERFILE_RULES = [
  'pinned-base',
  'non-root-user',
  'copy-not-add',
  'exec-form',
  'healthcheck',
  'no-secrets',
  'apt-hygiene',
  'npm-ci',
  'no-maintainer',
  'valid-expose',
  'syntax',
] as const;

export function lintDockerfile(content: string): DockerfileFinding[] {
  const df = DockerfileParser.parse(content);
  return [
    ...pinnedBase(df),
    ...nonRootUser(df),
    ...noAdd(df),
    ...execForm(df),
    ...healthcheck(df),
    ...noSecrets(df),
    ...aptHygiene(df),
    ...npmCi(df),
    ...noMaintainer(df),
    ...validExpose(df),
    ...syntax(content),
  ];
}
