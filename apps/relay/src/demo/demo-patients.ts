import type { RegisterPatient } from '#contracts';
import type { UsersRepository } from '../identity/users.repository.js';
import type { ExamOrdersService } from '../records/exam-orders.service.js';
import type { PatientsService } from '../records/patients.service.js';

/**
 * Demo patients: resident IDs with a valid GB 11643 check character but clearly fictitious
 * (area 500101, born 1900–1902, names 测试患者 "test patient"). Never a real person's number.
 */
export const DEMO_PATIENTS: RegisterPatient[] = [
  { documentType: 'resident_id', idNumber: '500101190001010017', name: '测试患者一' },
  { documentType: 'resident_id', idNumber: '500101190001010025', name: '测试患者二' },
  { documentType: 'resident_id', idNumber: '500101190103150037', name: '测试患者三' },
  { documentType: 'resident_id', idNumber: '50010119020707004X', name: '测试患者四' },
];

/** The clinic whose staff find the demo's open order. */
export const DEMO_ORDER_CLINIC_STAFF = 'clinic1.staff';

/**
 * Registers the demo patients at clinic 1 and, when the clinic has no open order, one ECG
 * order for 测试患者二 that a newcomer can record with the simulator (`--order`). Safe to
 * run at every start. Returns the open order's number.
 */
export async function seedDemoPatients(
  users: UsersRepository,
  patients: PatientsService,
  orders: ExamOrdersService,
): Promise<string | undefined> {
  const stored = await users.findByUsername(DEMO_ORDER_CLINIC_STAFF);
  const staff = stored && (await users.sessionUserById(stored.id));
  if (!staff) return undefined;
  for (const patient of DEMO_PATIENTS) await patients.register(patient, staff);
  const open = await orders.openOrders(staff);
  if (open.length > 0) return open[0]!.orderNumber;
  const created = await orders.create(staff, {
    patient: DEMO_PATIENTS[1],
    kind: 'ecg',
    indication: 'Demo: chest pain since this morning',
    urgency: 'urgent',
  });
  return created.order.orderNumber;
}
