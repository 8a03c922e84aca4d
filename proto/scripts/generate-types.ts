/**
 * Regenerates proto/src/generated/ from the .proto files with @grpc/proto-loader's type generator.
 * The options must match LOADER_OPTIONS in proto/src/index.ts.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const protoRoot = fileURLToPath(new URL('..', import.meta.url));
const outDir = fileURLToPath(new URL('../src/generated', import.meta.url));

rmSync(outDir, { recursive: true, force: true });
execFileSync(
  'npx',
  [
    'proto-loader-gen-types',
    '--keepCase',
    '--longs=String',
    '--enums=String',
    '--arrays',
    '--oneofs',
    '--grpcLib=@grpc/grpc-js',
    '--importFileExtension=.ts',
    '-I',
    protoRoot,
    '-O',
    outDir,
    'riva/proto/riva_asr.proto',
    'riva/proto/riva_tts.proto',
    'grpc/health/v1/health.proto',
  ],
  { cwd: protoRoot, stdio: 'inherit' },
);

// Generated headers name the absolute .proto path; keep them machine-independent.
for (const entry of readdirSync(outDir, { recursive: true, withFileTypes: true })) {
  if (!entry.isFile()) continue;
  const file = join(entry.parentPath, entry.name);
  writeFileSync(file, readFileSync(file, 'utf8').replaceAll(protoRoot, 'proto/'));
}
