/**
 * A fake HashiCorp Vault on loopback that speaks the part of the transit engine's HTTP API the Vault key store
 * uses: create a key, allow its deletion, delete it, HMAC with it. Keys are random secrets held in memory;
 * answers and error bodies follow Vault's shapes (`{"data": …}`, `{"errors": […]}`).
 */
import { createHmac, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeVault {
  url: string;
  token: string;
  /** Transit keys by name. */
  keys: Map<string, { secret: Buffer; deletionAllowed: boolean }>;
  requests: Array<{ method: string; path: string; namespace: string | undefined }>;
  close(): Promise<void>;
}

export async function startFakeVault(options: { token: string; mount?: string }): Promise<FakeVault> {
  const mount = options.mount ?? 'transit';
  const keys: FakeVault['keys'] = new Map();
  const requests: FakeVault['requests'] = [];
  const send = (res: ServerResponse, status: number, body?: unknown) => {
    if (body === undefined) return void res.writeHead(status).end();
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  };
  const readJson = async (req: IncomingMessage): Promise<Record<string, unknown>> => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    return text ? (JSON.parse(text) as Record<string, unknown>) : {};
  };
  const prefix = `/v1/${mount}/`;

  const server = createServer((req, res) => {
    void (async () => {
      const path = req.url ?? '';
      const namespace = req.headers['x-vault-namespace'];
      requests.push({
        method: req.method ?? '',
        path,
        namespace: typeof namespace === 'string' ? namespace : undefined,
      });
      if (req.headers['x-vault-token'] !== options.token)
        return send(res, 403, { errors: ['permission denied'] });
      if (!path.startsWith(prefix)) return send(res, 404, { errors: [] });
      const parts = path.slice(prefix.length).split('/');
      const body = await readJson(req);
      const [kind, name, extra] = parts;
      const key = name ? keys.get(name) : undefined;
      if (kind === 'keys' && name && extra === undefined && req.method === 'POST') {
        if (!key) keys.set(name, { secret: randomBytes(32), deletionAllowed: false });
        return send(res, 204);
      }
      if (kind === 'keys' && name && extra === 'config' && req.method === 'POST') {
        if (!key) return send(res, 400, { errors: [`no existing key named ${name} could be found`] });
        key.deletionAllowed = body.deletion_allowed === true;
        return send(res, 204);
      }
      if (kind === 'keys' && name && extra === undefined && req.method === 'DELETE') {
        if (!key) return send(res, 204);
        if (!key.deletionAllowed) return send(res, 400, { errors: ['deletion is not allowed for this key'] });
        keys.delete(name);
        return send(res, 204);
      }
      if (kind === 'hmac' && name && extra === 'sha2-256' && req.method === 'POST') {
        if (!key) return send(res, 400, { errors: ['encryption key not found'] });
        if (body.key_version !== 1) return send(res, 400, { errors: ['invalid key version'] });
        const mac = createHmac('sha256', key.secret)
          .update(Buffer.from(String(body.input), 'base64'))
          .digest('base64');
        return send(res, 200, { data: { hmac: `vault:v1:${mac}` } });
      }
      return send(res, 404, { errors: [] });
    })().catch(() => send(res, 500, { errors: ['internal error'] }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    token: options.token,
    keys,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
