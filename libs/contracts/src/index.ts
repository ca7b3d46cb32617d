export * from './topics.js';
export * from './recording.js';
export * from './frame.js';
export * from './auth.js';
export * from './cases.js';
export * from './events.js';
export * from './routing.js';
export * from './admin.js';
