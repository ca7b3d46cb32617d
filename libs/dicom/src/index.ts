export * from './types.js';
export {
  ACCEPTED_SOP_CLASSES,
  ACCEPTED_TRANSFER_SYNTAXES,
  DEFAULT_LIMITS,
  FAILURE_REASONS,
  inspectInstance,
} from './inspect.js';
export { DicomFrameError, frameOf, renderThumbnail } from './pixels.js';
export {
  DicomWaveformError,
  decodeEcgWaveform,
  type DicomEcgChannel,
  type DicomEcgRecording,
} from './ecg-waveform.js';
