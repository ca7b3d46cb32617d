export * from './dicom-metadata.js';
