// Plain Aedes for the ingest benchmark: Aedes.createBroker() with no hooks (no
// authentication, no ACL, no handlers), on a free loopback port. Prints {"port": n} on
// one line when listening; stops on SIGTERM or SIGINT.
import { once } from 'node:events';
import { createServer } from 'node:net';
import process from 'node:process';
import { setInterval, setTimeout } from 'node:timers';
import { Aedes } from 'aedes';

const broker = await Aedes.createBroker();
const server = createServer(broker.handle);
server.listen(0, '127.0.0.1');
await once(server, 'listening');
process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`);

const stop = () => {
  server.close();
  broker.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 5_000).unref();
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
// The benchmark that started us is gone (re-parented): do not outlive it.
const parent = process.ppid;
setInterval(() => process.ppid !== parent && stop(), 2_000).unref();
