export * from './frame-codec.js';
export * from './synthetic-ecg.js';
