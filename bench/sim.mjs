// The simulated Microsoft tenants of the benchmark, in a process of their own so the benchmark's memory and
// CPU figures are the product's alone. Driven by the benchmark over IPC (child_process.fork).
import http from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const { startSimulator } = require(path.join(root, 'dist/src/local/simulator/index.js'));

let sim;
const tenants = new Map();

// Storage latency: a small HTTP proxy in front of each Azurite endpoint holds every call `storageMs` before
// passing it on (the benchmark's ledger talks to the proxy; the product has no such thing).
let storageMs = 0;
const proxies = [];
async function proxyTo(port) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 512 });
  const server = http.createServer((req, res) => {
    const forward = () => {
      const out = http.request(
        { host: '127.0.0.1', port, method: req.method, path: req.url, headers: req.headers, agent },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      out.on('error', () => res.destroy());
      req.pipe(out);
    };
    if (storageMs > 0) setTimeout(forward, storageMs);
    else forward();
  });
  server.keepAliveTimeout = 60_000;
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxies.push(server);
  return server.address().port;
}

/** The connection string with every http://127.0.0.1:<port> endpoint replaced by a proxy of its own. */
async function proxied(connectionString) {
  let out = connectionString;
  for (const match of connectionString.matchAll(/http:\/\/127\.0\.0\.1:(\d+)/g)) {
    out = out.replace(match[0], `http://127.0.0.1:${await proxyTo(Number(match[1]))}`);
  }
  return out;
}

/** 1% of the users changed: licenses added and removed, users renamed (new mail: a new address), users deleted. */
function mutate(tenant, { users, fraction, seed }) {
  const count = Math.max(1, Math.round(users * fraction));
  const skuIds = tenant.subscribedSkus().map((sku) => sku.skuId);
  const stride = Math.max(1, Math.floor(users / count));
  const done = { licenseAdded: 0, licenseRemoved: 0, renamed: 0, deleted: 0 };
  for (let k = 0; k < count; k++) {
    const index = (k * stride + seed) % users;
    const id = tenant.generatedUserId(index);
    const user = tenant.graphUser(id);
    const kind = k % 10;
    if (kind < 2) {
      const held = new Set((user.assignedLicenses ?? []).map((l) => l.skuId));
      const sku = skuIds.find((s) => !held.has(s));
      if (sku) {
        tenant.assignLicense(id, { sku });
        done.licenseAdded++;
      }
    } else if (kind < 4) {
      const first = user.assignedLicenses?.[0]?.skuId;
      if (first) {
        tenant.removeLicense(id, first);
        done.licenseRemoved++;
      }
    } else if (kind < 7) {
      const domain = tenant.domains[0];
      tenant.updateUser(id, {
        displayName: `Renamed User ${index + 1}`,
        userPrincipalName: `renamed${index + 1}@${domain}`,
        mail: `renamed${index + 1}@${domain}`,
      });
      done.renamed++;
    } else {
      tenant.removeUser(id);
      done.deleted++;
    }
  }
  return done;
}

process.on('message', async ({ id, cmd, args }) => {
  try {
    let result;
    if (cmd === 'start') {
      sim = await startSimulator({ cert: args.cert, key: args.key });
      result = { url: sim.url };
    } else if (cmd === 'addTenants') {
      result = args.inputs.map((input) => {
        const tenant = sim.addTenant(input);
        tenants.set(tenant.tenantId, tenant);
        return { tenantId: tenant.tenantId };
      });
    } else if (cmd === 'proxy') {
      result = { connectionString: await proxied(args.connectionString) };
    } else if (cmd === 'latency') {
      storageMs = args.storageMs;
      sim.setPageDelay(args.graphPageMs);
      result = true;
    } else if (cmd === 'mutate') {
      result = mutate(tenants.get(args.tenantId), args);
    } else if (cmd === 'requests') {
      result = sim.requestCount(/^\/v1\.0\//);
      if (args?.reset) sim.resetCounts();
    } else if (cmd === 'rss') {
      result = Math.round(process.memoryUsage().rss / 1048576);
    } else if (cmd === 'close') {
      await sim?.close();
      for (const server of proxies) server.closeAllConnections();
      result = true;
    }
    process.send({ id, result });
  } catch (error) {
    process.send({ id, error: error instanceof Error ? error.stack : String(error) });
  }
});
