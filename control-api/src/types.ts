/** Hono environment shared by the routers: values set by middleware and read through `c.var`. */
import type { Role } from './config.ts';

export interface Principal {
  /** Stable, non-personal label: `static:<role>:<token fingerprint>` or `oidc:<subject hash>`. */
  id: string;
  roles: Role[];
}

export interface AppEnv {
  Variables: {
    requestId: string;
    principal: Principal;
  };
}
