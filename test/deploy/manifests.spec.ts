/**
 * Static checks of what deploy/ and docker-compose.yml describe, since no Docker engine and no
 * cluster run here: every Kubernetes object is validated against the official API schemas
 * (kubernetes-models ships validators generated from them, offline), and the project's own rules
 * are asserted on top (probes on /health, limits, non-root, real apps, real env names).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadApiKeysConfig } from '@cx/http';
import { loadConfig, loadMasterKey } from '@cx/platform';
import { loadRetentionConfig } from '../../libs/projections/src/retention/retention.config.js';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { parse, parseAllDocuments } from 'yaml';

const root = join(import.meta.dirname, '..', '..');
const k8sDir = join(root, 'deploy/k8s');
const read = (path: string) => readFileSync(join(root, path), 'utf8');

/** Parsed YAML, read by path: the schemas above vouch for its shape. */
type Obj = Record<string, any>;

/** The official schema of each kind the manifests may use. */
const models: Record<string, new (data: Obj) => { validate(): void }> = {
  'v1/Namespace': Namespace,
  'v1/ConfigMap': ConfigMap,
  'v1/Secret': Secret,
  'v1/Service': Service,
  'apps/v1/Deployment': Deployment,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
};

/** Every variable the platform's code reads, found by handing its configuration loaders an env that records each read. */
function envNamesRead(): Set<string> {
  const names = new Set<string>();
  const values: Record<string, string> = {
    DATABASE_URL: 'postgres://cx@127.0.0.1:5432/cx',
    KAFKA_BROKERS: '127.0.0.1:9092',
    CX_PROJECTOR_SOURCE: 'kafka',
    EVENTSTOREDB_URL: 'esdb://127.0.0.1:2113?tls=false',
    CX_MASTER_KEY: Buffer.alloc(32, 7).toString('base64'),
    CX_API_KEYS: 'key-1:read',
  };
  const env = new Proxy(values, {
    get(target, key) {
      if (typeof key === 'string') names.add(key);
      return typeof key === 'string' ? target[key] : undefined;
    },
  }) as NodeJS.ProcessEnv;
  loadConfig(env);
  loadApiKeysConfig(env);
  loadRetentionConfig(env);
  loadMasterKey({ env, dataDir: 'memory', embedded: false });
  return names;
}
/** Read by Node itself, not the platform. */
const RUNTIME_ENV = new Set(['NODE_ENV', 'NODE_OPTIONS']);

/** The apps that fold projections run with a larger V8 young generation (docs/operations.md): the same flag as package.json's start scripts. */
const FOLDING_APPS = new Set(['cx', 'projector']);
const packageScripts = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;

function assertAppCommand(command: unknown): string {
  const entry = String((command as string[]).at(-1));
  expect(entry).toMatch(/^dist\/apps\/[a-z-]+\/src\/main\.js$/);
  const app = entry.split('/')[2];
  const v8Flags = FOLDING_APPS.has(app) ? ['--max-semi-space-size=64'] : [];
  expect(command).toEqual(['node', ...v8Flags, '--enable-source-maps', entry]);
  // As `npm run start:<app>` runs it (`npm start` for cx).
  const script = packageScripts[app === 'cx' ? 'start:dist' : `start:${app}`];
  if (script) expect(script).toContain(['node', ...v8Flags, '--enable-source-maps', entry].join(' '));
  expect({ app, source: existsSync(join(root, `apps/${app}/src/main.ts`)) }).toEqual({ app, source: true });
  // jest's global setup builds dist/ before the suites run.
  expect({ entry, built: existsSync(join(root, entry)) }).toEqual({ entry, built: true });
  return app;
}

describe('deploy/k8s', () => {
  const kustomization = parse(readFileSync(join(k8sDir, 'kustomization.yaml'), 'utf8')) as Obj;
  const files = readdirSync(k8sDir).filter((f) => f.endsWith('.yaml'));
  const objects: Array<{ file: string; object: Obj }> = files
    .filter((file) => file !== 'kustomization.yaml')
    .flatMap((file) =>
      parseAllDocuments(readFileSync(join(k8sDir, file), 'utf8')).map((doc) => {
        expect({ file, errors: doc.errors.map(String) }).toEqual({ file, errors: [] });
        return { file, object: doc.toJS() as Obj };
      }),
    );
  const ofKind = (kind: string) => objects.filter((o) => o.object.kind === kind).map((o) => o.object);
  const deployments = ofKind('Deployment');
  const byName = (name: string) => deployments.find((d) => d.metadata.name === name)!;
  const configMap = ofKind('ConfigMap')[0];
  const secret = ofKind('Secret')[0];
  const known = envNamesRead();

  it('holds only objects of known kinds, each valid against its official Kubernetes schema', () => {
    expect(objects.length).toBeGreaterThanOrEqual(8);
    for (const { file, object } of objects) {
      const model = models[`${object.apiVersion}/${object.kind}`];
      expect({ file, kind: `${object.apiVersion}/${object.kind}`, known: model !== undefined }).toEqual({ file, kind: `${object.apiVersion}/${object.kind}`, known: true });
      expect(() => new model(object).validate()).not.toThrow();
      expect(object.metadata.namespace ?? object.metadata.name).toBe('cx');
    }
  });

  it('would reject a broken manifest (the validators are real)', () => {
    const broken = structuredClone(byName('cx-projector'));
    broken.spec.replicas = 'three';
    expect(() => new Deployment(broken).validate()).toThrow(/replicas must be integer/);
    delete broken.spec.selector;
    expect(() => new Deployment(broken).validate()).toThrow(/selector/);
  });

  it('applies every manifest but the secret template through kustomization.yaml, with the image built from deploy/Dockerfile', () => {
    expect(kustomization.kind).toBe('Kustomization');
    expect([...kustomization.resources].sort()).toEqual(files.filter((f) => f !== 'kustomization.yaml' && !f.endsWith('.template.yaml')).sort());
    expect(kustomization.images).toEqual([expect.objectContaining({ name: 'cx-platform' })]);
    for (const deployment of deployments) {
      for (const container of deployment.spec.template.spec.containers) expect(container.image).toBe('cx-platform');
    }
  });

  it('runs ingest, query and projector, each an app of this repository', () => {
    const apps = deployments.map((d) => assertAppCommand(d.spec.template.spec.containers[0].command)).sort();
    expect(apps).toEqual(['ingest', 'projector', 'query']);
  });

  it('probes /health on the app port, and gives every container resource requests and limits', () => {
    for (const deployment of deployments) {
      for (const container of deployment.spec.template.spec.containers) {
        const portNames = container.ports.map((p: Obj) => p.name);
        for (const probe of ['startupProbe', 'readinessProbe', 'livenessProbe']) {
          expect([deployment.metadata.name, probe, container[probe]?.httpGet?.path]).toEqual([deployment.metadata.name, probe, '/health']);
          expect(portNames).toContain(container[probe].httpGet.port);
        }
        for (const kind of ['requests', 'limits']) {
          expect(container.resources?.[kind]).toEqual({ cpu: expect.anything(), memory: expect.anything() });
        }
      }
    }
  });

  it('runs as a non-root user on a read-only root file system, without privileges', () => {
    for (const deployment of deployments) {
      const pod = deployment.spec.template.spec;
      expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000 });
      expect(pod.automountServiceAccountToken).toBe(false);
      for (const container of pod.containers) {
        expect(container.securityContext).toEqual({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
        for (const mount of container.volumeMounts ?? []) expect(pod.volumes.map((v: Obj) => v.name)).toContain(mount.name);
      }
    }
  });

  it('selects its own pods: deployments their template, services and the disruption budget a deployment', () => {
    for (const deployment of deployments) {
      expect(deployment.spec.template.metadata.labels).toMatchObject(deployment.spec.selector.matchLabels);
    }
    const podsOf = (selector: Obj) => deployments.filter((d) => Object.entries(selector).every(([k, v]) => d.spec.template.metadata.labels[k] === v));
    const services = ofKind('Service');
    expect(services.map((s) => s.metadata.name).sort()).toEqual(['cx-ingest', 'cx-query']);
    for (const service of services) {
      const [target] = podsOf(service.spec.selector);
      expect(target?.metadata.name).toBe(service.metadata.name);
      for (const port of service.spec.ports) expect(target.spec.template.spec.containers[0].ports.map((p: Obj) => p.name)).toContain(port.targetPort);
    }
    const [budget] = ofKind('PodDisruptionBudget');
    expect(podsOf(budget.spec.selector.matchLabels).map((d) => d.metadata.name)).toEqual(['cx-projector']);
  });

  it('runs several projectors as one Kafka consumer group, and keeps all but one through disruptions', () => {
    const projector = byName('cx-projector');
    expect(projector.spec.replicas).toBeGreaterThanOrEqual(2);
    const env = projector.spec.template.spec.containers[0].env as Obj[];
    expect(env).toContainEqual({ name: 'CX_PROJECTOR_SOURCE', value: 'kafka' });
    expect(configMap.data.KAFKA_BROKERS).toBeTruthy();
    const [budget] = ofKind('PodDisruptionBudget');
    expect(budget.spec.maxUnavailable).toBeLessThan(projector.spec.replicas);
  });

  /** The environment a deployment's container gets: its ConfigMap, its env, and the secret template's placeholders. */
  const environmentOf = (deployment: Obj): Record<string, string> => {
    const container = deployment.spec.template.spec.containers[0];
    const env: Record<string, string> = {};
    for (const source of container.envFrom ?? []) {
      expect(source.configMapRef.name).toBe(configMap.metadata.name);
      Object.assign(env, configMap.data);
    }
    for (const variable of container.env ?? []) {
      const ref = variable.valueFrom?.secretKeyRef;
      if (ref) {
        expect(ref.name).toBe(secret.metadata.name);
        expect(Object.keys(secret.stringData)).toContain(ref.key);
      }
      env[variable.name] = ref ? secret.stringData[ref.key] : variable.value;
    }
    return env;
  };

  it('sets only variables the platform reads, values its configuration accepts, and the master key only where personal data is', () => {
    for (const deployment of deployments) {
      const env = environmentOf(deployment);
      for (const name of Object.keys(env)) expect({ name, known: known.has(name) || RUNTIME_ENV.has(name) }).toEqual({ name, known: true });
      expect(() => loadConfig(env)).not.toThrow();
      expect(env.DATABASE_URL).toMatch(/^postgres:\/\//);
    }
    expect(environmentOf(byName('cx-ingest'))).toHaveProperty('CX_MASTER_KEY');
    expect(environmentOf(byName('cx-query'))).toHaveProperty('CX_MASTER_KEY');
    expect(environmentOf(byName('cx-projector'))).not.toHaveProperty('CX_MASTER_KEY');
    for (const name of [...Object.keys(configMap.data), ...Object.keys(secret.stringData)]) expect(known.has(name)).toBe(true);
  });

  it('keeps real secrets out of the repository: the template holds placeholders', () => {
    expect(kustomization.resources).not.toContain('secret.template.yaml');
    for (const value of Object.values(secret.stringData) as string[]) expect(value).toContain('CHANGE-ME');
    expect(configMap.data).not.toHaveProperty('CX_MASTER_KEY');
    expect(configMap.data).not.toHaveProperty('DATABASE_URL');
  });
});

describe('deploy/Dockerfile', () => {
  const dockerfile = read('deploy/Dockerfile');
  const lines = dockerfile.split('\n').filter((line) => line.trim() && !line.trim().startsWith('#'));
  const stages = lines.map((line, i) => ({ line, i })).filter(({ line }) => /^FROM\s/.test(line));
  const finalStage = lines.slice(stages.at(-1)!.i);

  it('builds every app in one stage and ships only the runtime dependencies, as a non-root user', () => {
    expect(stages.length).toBeGreaterThanOrEqual(3);
    expect(lines).toContain('RUN npm run build');
    expect(lines.some((line) => /^RUN npm ci --omit=dev\b/.test(line))).toBe(true);
    expect(finalStage).toContain('USER node');
    expect(finalStage.some((line) => /^RUN\s/.test(line))).toBe(false);
    assertAppCommand(JSON.parse(finalStage.find((line) => line.startsWith('CMD '))!.slice(4)));
  });

  it('copies only paths that exist, and leaves the build stage out of the image', () => {
    for (const line of lines.filter((l) => l.startsWith('COPY ') && !l.includes('--from='))) {
      const sources = line.split(/\s+/).slice(1, -1);
      for (const source of sources) expect({ source, exists: existsSync(join(root, source)) }).toEqual({ source, exists: true });
    }
    expect(finalStage.filter((l) => l.includes('--from=')).map((l) => l.split(/\s+/)[2])).toEqual(['/app/node_modules', '/app/dist']);
  });
});

describe('docker-compose.yml', () => {
  const compose = parse(read('docker-compose.yml')) as Obj;
  const services = compose.services as Record<string, Obj>;
  const apps = Object.entries(services).filter(([, s]) => s.image?.startsWith('cx-platform'));
  const known = envNamesRead();
  /** The environment as compose passes it, with ${VAR:-default} and ${VAR:?message} filled in as a user would. */
  const resolved = (env: Record<string, string>) =>
    Object.fromEntries(
      Object.entries(env).map(([k, v]) => [
        k,
        String(v).replace(/\$\{(\w+)(?::[-?]([^}]*))?\}/g, (_, name: string) => (name === 'CX_MASTER_KEY' ? Buffer.alloc(32, 1).toString('base64') : '')),
      ]),
    );
  const dependsOn = (service: Obj) => Object.keys(service.depends_on ?? {});
  const reaches = (name: string, target: string): boolean => name === target || dependsOn(services[name]).some((d) => reaches(d, target));

  it('runs PostgreSQL, Kafka, EventStoreDB and the apps, keeping the all-in-one cx as the default', () => {
    for (const name of ['postgres', 'kafka', 'eventstoredb', 'cx', 'ingest', 'query', 'projector', 'cx-esdb']) expect(Object.keys(services)).toContain(name);
    expect(services.cx.profiles).toBeUndefined();
    expect(services.postgres.profiles).toBeUndefined();
    expect(services.kafka.environment.KAFKA_PROCESS_ROLES).toBe('broker,controller');
    expect(services.eventstoredb.image).toMatch(/^eventstore\/eventstore:/);
    expect(services.eventstoredb.environment.EVENTSTORE_INSECURE).toBe('true');
  });

  it('builds the apps from deploy/Dockerfile and runs apps of this repository', () => {
    expect(apps.map(([name]) => name).sort()).toEqual(['cx', 'cx-esdb', 'ingest', 'projector', 'query']);
    for (const [, service] of apps) {
      expect(service.build).toEqual({ context: '.', dockerfile: 'deploy/Dockerfile' });
      if (service.command) assertAppCommand(service.command);
    }
    expect(services.projector.deploy.replicas).toBeGreaterThanOrEqual(2);
  });

  it('sets only variables the platform reads, with values its configuration accepts', () => {
    for (const [name, service] of apps) {
      const env = resolved(service.environment);
      for (const variable of Object.keys(env)) expect({ name, variable, known: known.has(variable) }).toEqual({ name, variable, known: true });
      expect(() => loadConfig(env)).not.toThrow();
    }
  });

  it('starts each app after what it needs: its database, Kafka or EventStoreDB, healthy', () => {
    const created = String(services.databases.command.at(-1));
    for (const [name, service] of apps) {
      const env = resolved(service.environment);
      const database = new URL(env.DATABASE_URL);
      expect(database.hostname).toBe('postgres');
      expect(reaches(name, 'postgres')).toBe(true);
      const db = database.pathname.slice(1);
      if (db !== services.postgres.environment.POSTGRES_DB) {
        expect(created).toContain(db);
        expect(service.depends_on.databases.condition).toBe('service_completed_successfully');
      }
      if (env.KAFKA_BROKERS) {
        expect(env.KAFKA_BROKERS).toBe(services.kafka.environment.KAFKA_ADVERTISED_LISTENERS.replace('PLAINTEXT://', ''));
        expect(service.depends_on.kafka.condition).toBe('service_healthy');
      }
      if (env.EVENTSTOREDB_URL) {
        expect(new URL(env.EVENTSTOREDB_URL).hostname).toBe('eventstoredb');
        expect(service.depends_on.eventstoredb.condition).toBe('service_healthy');
      }
      for (const dependency of dependsOn(service)) {
        if (service.depends_on[dependency].condition === 'service_healthy') expect(services[dependency].healthcheck).toBeDefined();
      }
    }
    expect(resolved(services.projector.environment).CX_PROJECTOR_SOURCE).toBe('kafka');
    expect(resolved(services['cx-esdb'].environment).EVENTSTOREDB_URL).toBe('esdb://eventstoredb:2113?tls=false');
  });

  it('never makes a service wait for one that its profiles leave out', () => {
    for (const [name, service] of Object.entries(services)) {
      for (const dependency of dependsOn(service)) {
        const needed: string[] | undefined = services[dependency].profiles;
        const mine: string[] | undefined = service.profiles;
        const ok = needed === undefined || (mine !== undefined && mine.every((p) => needed.includes(p)));
        expect({ name, dependency, ok }).toEqual({ name, dependency, ok: true });
      }
    }
  });
});
