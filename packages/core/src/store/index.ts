export * from './drivers.js';
export * from './migrations.js';
export * from './open.js';
export * from './sql.js';
export * from './store.js';
