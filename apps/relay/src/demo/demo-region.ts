import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FacilityKind, Role } from '#contracts';
import type { SecretHasher } from '../identity/secret-hasher.js';
import { UsersRepository } from '../identity/users.repository.js';
import type { Database } from '../infra/database/database.js';
import { DevicesRepository } from '../devices/devices.repository.js';
import { parseRegion } from '../region/region-file.js';
import { applyRegion } from '../region/region-seed.js';

interface DemoFacility {
  id: string;
  kind: FacilityKind;
  name: string;
  parentId: string | null;
  /** A clinic's calling AE titles for the DICOM listener. */
  aeTitles?: string[];
}

/** The demo's township health centres (乡镇卫生院), clinic-1 … clinic-6; the names are made up. */
const DEMO_TOWNS = ['石桥镇', '河口镇', '青龙镇', '白沙镇', '龙泉镇', '双河镇'];
/** The nurse signed in at each demo clinic (a surname, as colleagues address each other). */
const DEMO_NURSES = ['刘', '赵', '孙', '周', '吴', '郑'];

/**
 * 1 tertiary hospital, 2 county hospitals, 6 township clinics (1–3 → county 1, 4–6 → county 2),
 * named in Chinese as the clinics' own records would name them.
 * Clinic n's CT and X-ray machines call the DICOM listener as CLINICn_CT and CLINICn_DX.
 */
export const DEMO_FACILITIES: DemoFacility[] = [
  { id: 'tertiary-1', kind: 'tertiary', name: '市心血管病医院', parentId: null },
  { id: 'county-1', kind: 'county', name: '南山区人民医院', parentId: 'tertiary-1' },
  { id: 'county-2', kind: 'county', name: '北岭区人民医院', parentId: 'tertiary-1' },
  ...[1, 2, 3, 4, 5, 6].map((n) => ({
    id: `clinic-${n}`,
    kind: 'clinic' as const,
    name: `${DEMO_TOWNS[n - 1]}卫生院`,
    parentId: n <= 3 ? 'county-1' : 'county-2',
    aeTitles: [`CLINIC${n}_CT`, `CLINIC${n}_DX`],
  })),
];

export const DEMO_USERS: {
  username: string;
  displayName: string;
  role: Role;
  facilityId: string;
}[] = [
  {
    username: 'admin',
    displayName: '系统管理员',
    role: 'admin',
    facilityId: 'tertiary-1',
  },
  {
    username: 'health.authority',
    displayName: '区卫健委监管员',
    role: 'health_authority',
    facilityId: 'tertiary-1',
  },
  {
    username: 'tertiary.reader',
    displayName: '陈思远',
    role: 'reader',
    facilityId: 'tertiary-1',
  },
  {
    username: 'county1.reader',
    displayName: '李明',
    role: 'reader',
    facilityId: 'county-1',
  },
  {
    username: 'county2.reader',
    displayName: '张伟',
    role: 'reader',
    facilityId: 'county-2',
  },
  ...[1, 2, 3, 4, 5, 6].map((n) => ({
    username: `clinic${n}.staff`,
    displayName: `${DEMO_NURSES[n - 1]}护士（${DEMO_TOWNS[n - 1]}卫生院）`,
    role: 'clinic_staff' as const,
    facilityId: `clinic-${n}`,
  })),
];

/** The region's ECG boxes: two per clinic; `npm run demo` runs these. */
export const DEMO_BOXES = Array.from({ length: 12 }, (_, i) => ({
  deviceId: `demo-box-${String(i + 1).padStart(2, '0')}`,
  clinicId: `clinic-${Math.floor(i / 2) + 1}`,
}));

/**
 * Registered but idle until a load test uses them (`npm run sim -- --devices 50`): the
 * credentials file lists the region's boxes first, then these, spread over the clinics.
 */
export const DEMO_LOAD_BOXES = Array.from({ length: 88 }, (_, i) => ({
  deviceId: `demo-load-${String(i + 1).padStart(3, '0')}`,
  clinicId: `clinic-${(i % 6) + 1}`,
}));

const DEMO_DEVICES = [...DEMO_BOXES, ...DEMO_LOAD_BOXES];

export interface DemoDeviceCredentials {
  devices: { deviceId: string; secret: string; clinicId: string }[];
}

export interface DemoSeedResult {
  password: string;
  passwordGenerated: boolean;
  devicesFile: string;
}

/**
 * Loads the demo region through the same seeding as REGION_FILE (applyRegion), with the
 * demo's credentials reset on every start: the demo password may differ from last time,
 * and demo accounts switched off outside demo mode come back. The boxes' credentials are
 * written to DATA_DIR for the simulator (mode 0600); kept device secrets are reused so
 * running boxes stay valid, and a registered box keeps its hash so restarts stay quick.
 */
export async function seedDemoRegion(
  database: Database,
  hasher: SecretHasher,
  options: { dataDir: string; password: string | undefined },
): Promise<DemoSeedResult> {
  const password = options.password ?? randomBytes(9).toString('base64url');
  const devicesFile = join(options.dataDir, 'demo-devices.json');
  const known = await readCredentials(devicesFile);
  const credentials: DemoDeviceCredentials = {
    devices: DEMO_DEVICES.map((device) => ({
      ...device,
      secret: known.get(device.deviceId) ?? randomBytes(18).toString('base64url'),
    })),
  };
  const registered = await new DevicesRepository(database).hashesOf(
    credentials.devices.filter((device) => known.has(device.deviceId)).map((d) => d.deviceId),
  );
  // One hash for every demo account: they share the password.
  const passwordHash = await hasher.hash(password);
  const region = parseRegion(
    {
      facilities: DEMO_FACILITIES,
      users: DEMO_USERS.map((user) => ({ ...user, passwordHash })),
      devices: credentials.devices.map((device) => {
        const secretHash = registered.get(device.deviceId);
        return secretHash === undefined
          ? { id: device.deviceId, facilityId: device.clinicId, secret: device.secret }
          : { id: device.deviceId, facilityId: device.clinicId, secretHash };
      }),
    },
    'demo region',
  );
  await applyRegion(database, hasher, region, { source: 'demo region', credentials: 'reset' });
  await writeFile(devicesFile, `${JSON.stringify(credentials, null, 2)}\n`, { mode: 0o600 });
  return { password, passwordGenerated: options.password === undefined, devicesFile };
}

/** Demo accounts exist only in demo mode: outside it they are switched off. */
export async function disableDemoAccounts(database: Database): Promise<void> {
  await new UsersRepository(database).disableByUsername(DEMO_USERS.map((user) => user.username));
  await new DevicesRepository(database).disableWhereIdStartsWith(['demo-box-', 'demo-load-']);
}

async function readCredentials(path: string): Promise<Map<string, string>> {
  try {
    const parsed = JSON.parse(await readFile(path, 'utf8')) as DemoDeviceCredentials;
    return new Map(parsed.devices.map((device) => [device.deviceId, device.secret]));
  } catch {
    return new Map();
  }
}
