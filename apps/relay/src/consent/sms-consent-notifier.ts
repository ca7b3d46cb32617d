import { randomUUID } from 'node:crypto';
import type { Logger } from '../infra/logging/logger.js';
import { SmsDeliveryError, type HttpSmsGateway } from '../infra/sms/sms-gateway.js';
import type { PatientsService } from '../records/patients.service.js';
import { ConsentNotifier, type CodeRecipient, type CodeRequest } from './consent-notifier.js';

/**
 * Production: the code goes by SMS to the mobile number registered with the patient
 * (docs/consent.md, "SMS gateway"). It runs after the doctor's answer is settled, so the
 * gateway's delays and retries cost the doctor nothing they could time. The number and the
 * code reach only the gateway; the log names the patient by id and the message by its key.
 */
export class SmsConsentNotifier extends ConsentNotifier {
  constructor(
    private readonly gateway: Pick<HttpSmsGateway, 'send'>,
    private readonly patients: PatientsService,
    private readonly log: Logger,
  ) {
    super();
  }

  async sendCode(patient: CodeRecipient, request: CodeRequest): Promise<void> {
    const phoneNumber = await this.patients.mobileOf(patient.patientId);
    if (phoneNumber === null) {
      this.log.warn(
        { patientId: patient.patientId, clinicId: patient.registeredBy },
        'consent code not sent: the patient has no mobile number registered',
      );
      return;
    }
    const reference = randomUUID();
    try {
      const { attempts } = await this.gateway.send(
        { phoneNumber, message: codeMessage(request) },
        reference,
      );
      this.log.info({ patientId: patient.patientId, reference, attempts }, 'consent code sent');
    } catch (error) {
      const failure =
        error instanceof SmsDeliveryError
          ? { attempts: error.attempts, reason: error.reason }
          : { reason: error instanceof Error ? error.name : 'unknown' };
      this.log.error(
        { patientId: patient.patientId, reference, ...failure },
        'consent code not sent: the SMS gateway did not take it',
      );
    }
  }
}

/**
 * The text the patient reads: who asks, from where, for what, the code and until when,
 * and that it is for that doctor only. Simplified Chinese, as the region's patients read.
 */
export function codeMessage(request: CodeRequest): string {
  const until = new Intl.DateTimeFormat('zh-CN', {
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).format(request.expiresAt);
  return (
    `【Telerelay】${request.facilityName}的${request.requestedByName}申请查阅您的既往检查记录，` +
    `用途：${request.purpose}。验证码：${request.code}，${until}前有效。` +
    `如您同意，请将验证码告诉这位医生，切勿告诉他人。`
  );
}
