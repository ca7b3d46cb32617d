import 'reflect-metadata';
import { readFile, writeFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import { join } from 'node:path';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { RegionFile } from '#contracts';
import { serveApiDocs } from './api-docs/api-docs.js';
import { AppModule } from './app.module.js';
import { AuditService } from './audit/audit.service.js';
import { DomainErrorFilter } from './common/domain-error.filter.js';
import { ConfigError, loadConfig, type RelayConfig, type Role } from './config/config.js';
import { seedDemoPatients } from './demo/demo-patients.js';
import { disableDemoAccounts, seedDemoRegion } from './demo/demo-region.js';
import { UsersRepository } from './identity/users.repository.js';
import { ExamOrdersService } from './records/exam-orders.service.js';
import { PatientsService } from './records/patients.service.js';
import { SecretHasher } from './identity/secret-hasher.js';
import { DeviceGateService } from './devices/device-gate.service.js';
import { DicomListener } from './imaging/dicom-listener.js';
import { Infrastructure } from './infra/infrastructure.js';
import { createLogger, type Logger } from './infra/logging/logger.js';
import { requestCorrelation } from './infra/logging/request-correlation.js';
import { METRICS_PATH, metricsEndpoint } from './infra/metrics/metrics-endpoint.js';
import { IngestBridge } from './ingest/ingest.bridge.js';
import { NestPinoLogger } from './infra/logging/nest-logger.js';
import { RedisNotInstalledError } from './infra/redis/embedded-redis.js';
import { loadRegionFile, RegionFileError } from './region/region-file.js';
import { applyRegion } from './region/region-seed.js';
import { OriginCheckedIoAdapter } from './realtime/socket-origins.js';

async function main(): Promise<void> {
  let config: RelayConfig;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\nSee .env.example for every setting.\n`);
      process.exit(2);
    }
    throw error;
  }
  // Read and checked before anything starts, so a bad file costs nothing to find out.
  let region: RegionFile | undefined;
  try {
    region = config.regionFile === undefined ? undefined : await loadRegionFile(config.regionFile);
  } catch (error) {
    if (error instanceof RegionFileError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  const log = createLogger(config.logLevel);
  if (config.patientIdentity.demo) {
    log.warn(
      'patient identifiers are protected with the published DEMO keys: fictitious patients only ' +
        '(set PATIENT_ID_HMAC_KEY and PATIENT_ID_KEYS for real ones; docs/patients.md)',
    );
  }
  process.on('unhandledRejection', (reason) => log.error({ err: reason }, 'unhandled rejection'));

  let infra: Infrastructure;
  try {
    infra = await Infrastructure.start(config, log);
  } catch (error) {
    if (error instanceof RedisNotInstalledError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(3);
    }
    throw error;
  }

  const hasher = new SecretHasher();
  let demo: Awaited<ReturnType<typeof seedDemoRegion>> | undefined;
  try {
    if (config.demo.enabled) {
      demo = await seedDemoRegion(infra.database, hasher, {
        dataDir: config.dataDir,
        password: config.demo.password,
      });
    } else {
      await disableDemoAccounts(infra.database);
    }
    if (region && config.regionFile) {
      const seeded = await applyRegion(infra.database, hasher, region, {
        source: `REGION_FILE ${config.regionFile}`,
        credentials: 'keep',
      });
      log.info(seeded, 'region applied');
    }
  } catch (error) {
    if (error instanceof RegionFileError) {
      process.stderr.write(`${error.message}\n`);
      await infra.close();
      process.exit(2);
    }
    throw error;
  }

  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(infra), {
    logger: new NestPinoLogger(log),
  });
  // Before every other handler, so each request's log lines carry its id (docs/operations.md).
  app.use(requestCorrelation());
  const audit = app.get(AuditService);
  app.use(
    METRICS_PATH,
    metricsEndpoint(infra.metrics, config.metrics.token, (request) => {
      infra.metrics.count('telerelay_refusals_total', { edge: 'rest', code: 'UNAUTHENTICATED' });
      audit.recordLater({
        actor: 'anonymous',
        action: `GET ${METRICS_PATH}`,
        outcome: 'denied',
        remoteAddress: request.ip,
      });
    }),
  );
  app.useGlobalFilters(new DomainErrorFilter(log, audit, infra.metrics));
  const demoOrder = demo
    ? await seedDemoPatients(
        app.get(UsersRepository),
        app.get(PatientsService),
        app.get(ExamOrdersService),
      )
    : undefined;
  // req.ip is the address sign-in attempts are counted against: behind a proxy it must be
  // the client's (from X-Forwarded-For), or every user would share the proxy's budget.
  app.set('trust proxy', config.http.trustProxy);
  app.useWebSocketAdapter(
    new OriginCheckedIoAdapter(app, config.socketOrigins, infra.socketAdapter),
  );
  serveApiDocs(app);
  // Each role opens its own doors (docs/scaling.md); the rest of the relay runs everywhere,
  // so an instance without the api role still tells the readers' sockets, through Redis.
  if (config.roles.api) await app.listen(config.http.port, config.http.host);
  else await app.init();
  let dicomPort: number | undefined;
  if (config.roles.broker) {
    await infra.broker.listen({
      port: config.mqtt.port,
      gate: app.get(DeviceGateService),
      maxPacketBytes: config.mqtt.maxPacketBytes,
      proxyProtocol: config.mqtt.proxyProtocol,
      tls: config.mqtt.tls && {
        port: config.mqtt.tls.port,
        cert: await readFile(config.mqtt.tls.certFile),
        key: await readFile(config.mqtt.tls.keyFile),
      },
    });
    dicomPort = await app.get(DicomListener).listen(config.http.host);
  }

  const httpPort = config.roles.api ? Number(new URL(await app.getUrl()).port) : undefined;
  const mqttPort = config.roles.broker ? infra.broker.port : undefined;
  // Tools that start the relay on port 0 (demo, tests) read the real ports from here.
  await writeFile(
    join(config.dataDir, 'relay.json'),
    `${JSON.stringify({ pid: process.pid, httpPort, mqttPort, mqttTlsPort: infra.broker.tlsPort, dicomPort })}\n`,
  );
  log.info(
    {
      roles: Object.keys(config.roles).filter((role) => config.roles[role as Role]),
      cluster: config.cluster,
      httpPort,
      mqttPort,
      mqttTlsPort: infra.broker.tlsPort,
      dicomPort,
      dicomAeTitle: config.dicom?.aeTitle,
      dataDir: config.dataDir,
      demo: config.demo.enabled,
    },
    'relay ready',
  );
  if (demo) {
    process.stdout.write(
      `\nTelerelay is running.\n  console  http://localhost:${httpPort}/\n  mqtt     mqtt://localhost:${mqttPort}\n` +
        (dicomPort === undefined
          ? ''
          : `  dicom    ${config.dicom?.aeTitle}@localhost:${dicomPort} (C-ECHO, C-STORE)\n`) +
        `  demo logins: admin, health.authority, tertiary.reader, county1.reader, county2.reader, clinic1.staff … clinic6.staff\n` +
        `  demo password: ${demo.passwordGenerated ? demo.password : '(from DEMO_PASSWORD)'}\n` +
        `  box credentials: ${demo.devicesFile}\n` +
        (demoOrder
          ? `  demo exam order (clinic1.staff, 测试患者二): ${demoOrder.slice(0, 4)}-${demoOrder.slice(4)}\n`
          : '') +
        '\n',
    );
  }

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal, graceMs: config.shutdownGraceMs }, 'relay stopping');
    // Closing itself must not hang the process: past the grace and a margin, it exits.
    setTimeout(() => {
      log.error('relay did not close in time: exiting');
      process.exit(1);
    }, config.shutdownGraceMs + CLOSE_MARGIN_MS).unref();
    const drained = await stop(app, infra, log, config.shutdownGraceMs);
    log.info({ drained }, 'relay stopped');
    process.exit(drained ? 0 : 1);
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
}

/** How long closing may take after the grace (connections, Redis, the database). */
const CLOSE_MARGIN_MS = 5_000;

/**
 * A graceful stop (docs/operations.md, "Stopping"): stop accepting, let the work in hand end
 * within `graceMs`, then close. Returns whether the work in hand ended in time; what did not
 * is safe anyway (a box resends what was not acknowledged, BullMQ gives a stalled job to
 * another worker, the outbox keeps rows not yet queued), only later.
 */
async function stop(
  app: NestExpressApplication,
  infra: Infrastructure,
  log: Logger,
  graceMs: number,
): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const graceOver = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), graceMs);
  });
  const drained = await Promise.race([drain(app, infra, log).then(() => true as const), graceOver]);
  clearTimeout(timer);
  if (!drained) log.warn({ graceMs }, 'grace period over: closing with work still in hand');
  try {
    await app.close();
  } catch (error) {
    log.error({ err: error }, 'error while closing the application');
  }
  await infra.close();
  return drained;
}

async function drain(app: NestExpressApplication, infra: Infrastructure, log: Logger) {
  // No new connection, request, association or publish from here on.
  (app.getHttpServer() as Server).close();
  infra.broker.stopAccepting();
  const dicom = app.get(DicomListener).stopAccepting();
  // What boxes already sent is stored and acknowledged; what they did not hear back about
  // they still hold and resend.
  await app.get(IngestBridge).drain();
  log.info('mqtt drained');
  await infra.queues.stopWorkers();
  log.info('running jobs finished');
  await dicom;
}

main().catch((error: unknown) => {
  process.stderr.write(
    `Telerelay relay failed to start: ${error instanceof Error ? error.stack : String(error)}\n`,
  );
  process.exit(1);
});
