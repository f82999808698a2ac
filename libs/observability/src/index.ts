export * from './logger';
export * from './metrics';
export * from './lag';
export * from './dashboard';
