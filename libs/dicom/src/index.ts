export * from './dicom-metadata.js';
export * from './types.js';
export * from './inspect.js';
export * from './pixels.js';
export * from './ecg-waveform.js';
