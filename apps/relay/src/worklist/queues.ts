/** BullMQ queue names of the reading workflow (no ':' allowed in BullMQ names). */
export const reviewQueueOf = (hospitalId: string) => `review-${hospitalId}`;
export const DIAGNOSIS_DELIVERY_QUEUE = 'diagnosis-delivery';
