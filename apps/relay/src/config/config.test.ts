import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.js';

describe('loadConfig', () => {
  it('gives working single-machine defaults when nothing is set', () => {
    const config = loadConfig({});
    expect(config.http.port).toBe(3000);
    expect(config.mqtt.port).toBe(1883);
    expect(config.databaseUrl).toBeUndefined();
    expect(config.redis.url).toBeUndefined();
    expect(config.dataDir.endsWith('/data')).toBe(true);
    expect(config.demo.enabled).toBe(false);
  });

  it('lists every bad key and never echoes a value', () => {
    const secret = 'short-secret-value';
    let error: unknown;
    try {
      loadConfig({ PORT: 'eighty', AUTH_SECRET: secret, DATABASE_URL: 'mysql://x/y' });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join('\n');
    expect(problems).toMatch(/PORT/);
    expect(problems).toMatch(/AUTH_SECRET/);
    expect(problems).toMatch(/DATABASE_URL/);
    expect((error as Error).message).not.toContain(secret);
    expect((error as Error).message).not.toContain('eighty');
  });

  it('runs the DICOM listener on 11112 as TELERELAY by default, on a free port with 0, not at all with off', () => {
    expect(loadConfig({}).dicom).toEqual({
      port: 11112,
      aeTitle: 'TELERELAY',
      maxAssociations: 32,
    });
    expect(loadConfig({ DICOM_PORT: '0', DICOM_AE_TITLE: ' RELAY_1 ' }).dicom).toMatchObject({
      port: 0,
      aeTitle: 'RELAY_1',
    });
    expect(loadConfig({ DICOM_PORT: 'off' }).dicom).toBeUndefined();
    expect(() => loadConfig({ DICOM_PORT: 'eleven' })).toThrow(/DICOM_PORT/);
    expect(() => loadConfig({ DICOM_AE_TITLE: 'MORE_THAN_16_CHARACTERS' })).toThrow(
      /DICOM_AE_TITLE: must be 1-16/,
    );
  });

  it('reads SOCKET_ORIGINS as a list of origins and refuses anything else', () => {
    expect(loadConfig({}).socketOrigins).toEqual([]);
    expect(
      loadConfig({ SOCKET_ORIGINS: 'https://a.example.org, http://localhost:5173' }).socketOrigins,
    ).toEqual(['https://a.example.org', 'http://localhost:5173']);
    expect(() => loadConfig({ SOCKET_ORIGINS: 'https://a.example.org/console' })).toThrow(
      /SOCKET_ORIGINS/,
    );
  });

  it('passes TRUST_PROXY to Express as a hop count or a list of proxies', () => {
    expect(loadConfig({}).http.trustProxy).toBe('loopback');
    expect(loadConfig({ TRUST_PROXY: '1' }).http.trustProxy).toBe(1);
    expect(loadConfig({ TRUST_PROXY: '10.0.0.0/8, loopback' }).http.trustProxy).toBe(
      '10.0.0.0/8, loopback',
    );
  });

  it('treats empty strings as unset', () => {
    expect(loadConfig({ REDIS_URL: '', PORT: '' }).http.port).toBe(3000);
  });
});

describe('loadConfig for mqtts', () => {
  it('switches TLS on only with a port, a certificate and a key', () => {
    expect(loadConfig({}).mqtt.tls).toBeUndefined();
    const tls = loadConfig({
      MQTT_TLS_PORT: '8883',
      MQTT_TLS_CERT_FILE: 'c.pem',
      MQTT_TLS_KEY_FILE: 'k.pem',
    }).mqtt.tls;
    expect(tls).toEqual({ port: 8883, certFile: 'c.pem', keyFile: 'k.pem' });
  });

  it('names the missing TLS keys when only some are set', () => {
    expect(() => loadConfig({ MQTT_TLS_PORT: '8883' })).toThrow(
      /MQTT_TLS_CERT_FILE[\s\S]*MQTT_TLS_KEY_FILE/,
    );
  });
});
